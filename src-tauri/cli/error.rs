//! The command line's error: its own (a usage mistake, output that cannot be written, a
//! batch that partly failed) plus each library layer's, converted with `?`. `main` prints it
//! in the person's language and picks the exit status from it.

use std::fmt;

use stackdrop::i18n::{Lang, Localized};
use stackdrop::{config, openstack, upload};

#[derive(Debug)]
pub enum Error {
    /// The command line asks for something that cannot be done; the message says what to give.
    Usage(String),
    /// A file or folder named on the command line cannot be used.
    File {
        path: String,
        detail: String,
    },
    /// Writing the output failed (a closed pipe, a full disk).
    Output(std::io::Error),
    /// Some items of a batch failed; each was reported as it failed.
    Partly {
        failed: usize,
        total: usize,
        what: &'static str,
    },
    Config(config::Error),
    Protocol(openstack::Error),
    Upload(upload::Error),
}

impl Error {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Upload(e) if e.is_cancelled())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => f.write_str(m),
            Error::File { path, detail } => write!(f, "cannot use {path}: {detail}"),
            Error::Output(e) => write!(f, "cannot write the output: {e}"),
            Error::Partly { failed, total, what } => write!(f, "{failed} of {total} {what} failed"),
            Error::Config(e) => write!(f, "{e}"),
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Upload(e) => write!(f, "{e}"),
        }
    }
}

impl Localized for Error {
    fn in_lang(&self, lang: Lang) -> String {
        match self {
            Error::Config(e) => e.in_lang(lang),
            Error::Protocol(e) => e.in_lang(lang),
            Error::Upload(e) => e.in_lang(lang),
            Error::File { path, detail } => {
                stackdrop::i18n::tf_in(lang, "err.file", &[("path", path), ("detail", detail)])
            }
            other => other.to_string(),
        }
    }
}

impl std::error::Error for Error {}

impl From<config::Error> for Error {
    fn from(e: config::Error) -> Error {
        Error::Config(e)
    }
}

impl From<openstack::Error> for Error {
    fn from(e: openstack::Error) -> Error {
        Error::Protocol(e)
    }
}

impl From<upload::Error> for Error {
    fn from(e: upload::Error) -> Error {
        Error::Upload(e)
    }
}

/// Writing to stdout failed.
pub fn io(e: std::io::Error) -> Error {
    Error::Output(e)
}
