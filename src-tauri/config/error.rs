//! The settings layer's error: clouds.yaml, secure.yaml, `OS_*`, flags, profiles and the OS
//! keyring. `Display` is plain English; the front ends translate through
//! `crate::i18n::Localized`.

use std::fmt;

use super::entry::AuthType;

#[derive(Debug)]
pub enum Error {
    /// The settings are incomplete or contradictory (the message says which, and where).
    Invalid(String),
    /// A settings file cannot be read or parsed (`path` may end in `:line`).
    File { path: String, detail: String },
    /// The OS keyring could not do what was asked (the message says what and what to do).
    Keyring(String),
    /// A profile's secret is neither saved nor given: ask the person for it.
    SecretNeeded { profile: String, auth_type: AuthType, why: Missing },
    /// The settings name a CA bundle or client certificate the HTTP client cannot use.
    Client(crate::openstack::Error),
}

/// Why a profile's secret is not at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The keyring answered: no secret is saved for the profile.
    NotSaved,
    /// No keyring is reachable (the detail says why).
    NoKeyring(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Missing {
    /// In plain English, naming the kind of secret.
    pub fn words(&self, auth_type: AuthType) -> String {
        match self {
            Missing::NotSaved => format!("no {} is saved for it", auth_type.secret_words()),
            Missing::NoKeyring(detail) => format!("no OS keyring is reachable ({detail})"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) | Error::Keyring(m) => f.write_str(m),
            Error::File { path, detail } => write!(f, "cannot use {path}: {detail}"),
            Error::SecretNeeded { profile, auth_type, why } => {
                write!(f, "profile '{profile}' needs its {}: {}", auth_type.secret_words(), why.words(*auth_type))
            }
            Error::Client(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Client(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::openstack::Error> for Error {
    fn from(e: crate::openstack::Error) -> Error {
        Error::Client(e)
    }
}
