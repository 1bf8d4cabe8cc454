//! Where profile secrets live: the OS keyring (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through the `keyring` crate, and, when no keyring is
//! reachable and the person chose so, this process's memory for the session. Never a file.
//!
//! Two kinds of entry per profile: its credential (service `stackdrop`) and the last token
//! Keystone gave for it (service `stackdrop-token`), so the next run need not log in again.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::openstack::Secret;

const SERVICE: &str = "stackdrop";
const TOKEN_SERVICE: &str = "stackdrop-token";
const TOKEN_KEY_SERVICE: &str = "stackdrop-token-key";

/// What can go wrong with the keyring, in the two ways that matter to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    /// No keyring service is reachable (no Secret Service on the session bus, locked, ...).
    Unavailable(String),
    /// It answered, but refused or failed.
    Failed(String),
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::Unavailable(d) => write!(f, "no OS keyring is reachable ({d})"),
            KeyringError::Failed(d) => write!(f, "the OS keyring failed: {d}"),
        }
    }
}

impl From<keyring::Error> for KeyringError {
    fn from(e: keyring::Error) -> Self {
        match e {
            keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
                KeyringError::Unavailable(one_line(&e.to_string()))
            }
            e => KeyringError::Failed(one_line(&e.to_string())),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A place secrets can be kept, by profile name.
pub trait SecretStore: Send + Sync {
    fn get(&self, service: Kind, profile: &str) -> Result<Option<Secret>, KeyringError>;
    fn set(&self, service: Kind, profile: &str, secret: &Secret) -> Result<(), KeyringError>;
    /// Removing what is not there is not an error.
    fn delete(&self, service: Kind, profile: &str) -> Result<(), KeyringError>;
    /// For messages: "the OS keyring" or "memory".
    fn describe(&self) -> &'static str;
}

/// The entries a profile may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Credential,
    /// The last token, with what was discovered.
    Token,
    /// The random key of the kept token's fingerprint.
    TokenKey,
}

/// The OS keyring. Entries are `stackdrop` / `stackdrop-token` + the profile name; a profile
/// file in a place of its own (`STACKDROP_CONFIG_DIR`) gets services of its own too, so two
/// sets of profiles never share secrets.
#[derive(Debug, Default, Clone)]
pub struct OsKeyring {
    namespace: Option<String>,
}

impl OsKeyring {
    pub fn new(namespace: Option<String>) -> OsKeyring {
        OsKeyring { namespace }
    }

    fn service(&self, kind: Kind) -> String {
        let base = match kind {
            Kind::Credential => SERVICE,
            Kind::Token => TOKEN_SERVICE,
            Kind::TokenKey => TOKEN_KEY_SERVICE,
        };
        match &self.namespace {
            Some(ns) => format!("{base}:{ns}"),
            None => base.to_owned(),
        }
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, kind: Kind, profile: &str) -> Result<Option<Secret>, KeyringError> {
        let entry = keyring::Entry::new(&self.service(kind), profile)?;
        match entry.get_password() {
            Ok(s) => Ok(Some(Secret::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set(&self, kind: Kind, profile: &str, secret: &Secret) -> Result<(), KeyringError> {
        keyring::Entry::new(&self.service(kind), profile)?.set_password(secret.expose())?;
        Ok(())
    }

    fn delete(&self, kind: Kind, profile: &str) -> Result<(), KeyringError> {
        match keyring::Entry::new(&self.service(kind), profile)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn describe(&self) -> &'static str {
        "the OS keyring"
    }
}

/// This process's memory: the session-only choice when there is no keyring, and unit tests.
#[derive(Debug, Default)]
pub struct Memory {
    map: Mutex<HashMap<(Kind, String), Secret>>,
}

impl SecretStore for Memory {
    fn get(&self, kind: Kind, profile: &str) -> Result<Option<Secret>, KeyringError> {
        Ok(self.map.lock().unwrap_or_else(|e| e.into_inner()).get(&(kind, profile.to_owned())).cloned())
    }

    fn set(&self, kind: Kind, profile: &str, secret: &Secret) -> Result<(), KeyringError> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).insert((kind, profile.to_owned()), secret.clone());
        Ok(())
    }

    fn delete(&self, kind: Kind, profile: &str) -> Result<(), KeyringError> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(&(kind, profile.to_owned()));
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "memory (for this session only)"
    }
}

/// Where a profile's secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    /// In the OS keyring.
    Saved,
    /// Typed in for this session only.
    Session,
    /// Not saved: it is asked for when needed.
    Missing,
    /// No keyring is reachable: it is asked for when needed.
    NoKeyring,
}

impl SecretState {
    pub fn describe(self) -> &'static str {
        match self {
            SecretState::Saved => "in the OS keyring",
            SecretState::Session => "typed in for this session",
            SecretState::Missing => "not saved (asked for when needed)",
            SecretState::NoKeyring => "unknown: no OS keyring is reachable",
        }
    }
}

/// The keyring, with a memory layer in front for secrets the person typed in for this
/// session only. Reads look in memory first.
pub struct Secrets {
    keyring: Arc<dyn SecretStore>,
    session: Memory,
}

impl Secrets {
    /// The OS keyring, in the namespace of this profile file.
    pub fn for_store(store: &super::ProfileStore) -> Secrets {
        Secrets::new(Box::new(OsKeyring::new(store.keyring_namespace())))
    }

    pub fn new(keyring: Box<dyn SecretStore>) -> Secrets {
        Secrets { keyring: Arc::from(keyring), session: Memory::default() }
    }

    pub fn keyring(&self) -> &dyn SecretStore {
        self.keyring.as_ref()
    }

    pub fn shared_keyring(&self) -> Arc<dyn SecretStore> {
        self.keyring.clone()
    }

    /// Is the keyring reachable? (`Err` says why not.)
    pub fn probe(&self) -> Result<(), KeyringError> {
        self.keyring.get(Kind::Credential, "(keyring probe)").map(drop)
    }

    /// A secret typed in for this session only.
    pub fn remember_for_session(&self, profile: &str, secret: &Secret) {
        let _ = self.session.set(Kind::Credential, profile, secret);
    }

    pub fn forget_for_session(&self, profile: &str) {
        let _ = self.session.delete(Kind::Credential, profile);
    }

    /// Where a profile's credential is, without revealing it.
    pub fn state(&self, profile: &str) -> SecretState {
        if let Ok(Some(_)) = self.session.get(Kind::Credential, profile) {
            return SecretState::Session;
        }
        match self.keyring.get(Kind::Credential, profile) {
            Ok(Some(_)) => SecretState::Saved,
            Ok(None) => SecretState::Missing,
            Err(_) => SecretState::NoKeyring,
        }
    }

    pub fn credential(&self, profile: &str) -> Result<Option<Secret>, KeyringError> {
        if let Ok(Some(s)) = self.session.get(Kind::Credential, profile) {
            return Ok(Some(s));
        }
        self.keyring.get(Kind::Credential, profile)
    }

    pub fn save_credential(&self, profile: &str, secret: &Secret) -> Result<(), KeyringError> {
        self.keyring.set(Kind::Credential, profile, secret)?;
        self.forget_for_session(profile);
        Ok(())
    }

    /// Remove a profile's entries (credential and cached token).
    pub fn delete_profile(&self, profile: &str) -> Result<(), KeyringError> {
        self.forget_for_session(profile);
        let _ = self.keyring.delete(Kind::Token, profile);
        let _ = self.keyring.delete(Kind::TokenKey, profile);
        self.keyring.delete(Kind::Credential, profile)
    }

    /// Move a profile's credential to a new name (the cached token is simply dropped).
    pub fn rename_profile(&self, from: &str, to: &str) -> Result<(), KeyringError> {
        if let Ok(Some(s)) = self.session.get(Kind::Credential, from) {
            self.remember_for_session(to, &s);
            self.forget_for_session(from);
        }
        let _ = self.keyring.delete(Kind::Token, from);
        let _ = self.keyring.delete(Kind::TokenKey, from);
        match self.keyring.get(Kind::Credential, from) {
            Ok(Some(s)) => {
                self.keyring.set(Kind::Credential, to, &s)?;
                self.keyring.delete(Kind::Credential, from)
            }
            Ok(None) => Ok(()),
            // No keyring: nothing of this profile can be in it.
            Err(KeyringError::Unavailable(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_memory_wins_and_rename_moves_both() {
        let s = Secrets::new(Box::new(Memory::default()));
        s.save_credential("a", &Secret::new("kept".into())).unwrap();
        assert_eq!(s.credential("a").unwrap().unwrap().expose(), "kept");
        s.remember_for_session("a", &Secret::new("typed".into()));
        assert_eq!(s.credential("a").unwrap().unwrap().expose(), "typed");
        s.rename_profile("a", "b").unwrap();
        assert!(s.credential("a").unwrap().is_none());
        assert_eq!(s.credential("b").unwrap().unwrap().expose(), "typed");
        s.forget_for_session("b");
        assert_eq!(s.credential("b").unwrap().unwrap().expose(), "kept");
        s.delete_profile("b").unwrap();
        assert!(s.credential("b").unwrap().is_none());
    }

    #[test]
    fn keyring_errors_are_sorted_into_unavailable_or_failed() {
        let e: KeyringError = keyring::Error::NoStorageAccess("locked".into()).into();
        assert!(matches!(e, KeyringError::Unavailable(_)));
        assert!(e.to_string().starts_with("no OS keyring is reachable"));
        let e: KeyringError = keyring::Error::TooLong("user".into(), 255).into();
        assert!(matches!(e, KeyringError::Failed(_)));
    }
}
