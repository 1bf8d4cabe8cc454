//! The transfer layer's error: the local file, the bytes on their way, what Glance stored, and
//! what became of an image made for an upload that failed. Protocol errors pass through as
//! [`Error::Protocol`]. `Display` is plain English; the front ends translate through
//! `crate::i18n::Localized`.

use std::fmt;

pub use crate::openstack::Cleanup;

#[derive(Debug)]
pub enum Error {
    /// Talking to the cloud failed.
    Protocol(crate::openstack::Error),
    /// A local file cannot be used.
    File { path: String, detail: String },
    /// The file's own headers show Glance would refuse it (or it is not what was declared).
    Refused { path: String, reasons: Vec<String> },
    /// The options ask for something an upload cannot do.
    Invalid(String),
    /// The server stopped accepting the upload's bytes.
    Stalled { secs: u64 },
    /// The image reached `active` but does not match what was sent.
    Verification { image_id: String, detail: String },
    /// The person cancelled.
    Cancelled,
    /// An upload failed after its image was created; says what became of that image.
    Failed { cause: Box<Error>, image_id: String, cleanup: Cleanup },
    /// A download does not match what Glance recorded for the image (the partial file was
    /// removed).
    Corrupt { image_id: String, detail: String },
    /// A download stopped before the end; what came is kept for the same command to resume.
    Partial { cause: Box<Error>, path: String },
    /// The data of the image being copied does not match what its own Glance recorded.
    SourceCorrupt { image_id: String, detail: String },
    /// This target's image was fine, but another target failed and all or nothing was asked.
    RolledBack,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The innermost cause (through a failed upload and an abandoned import).
    pub fn root(&self) -> &Error {
        match self {
            Error::Failed { cause, .. } | Error::Partial { cause, .. } => cause.root(),
            e => e,
        }
    }

    /// The protocol error at the root, if that is what it is.
    pub fn protocol(&self) -> Option<&crate::openstack::Error> {
        match self.root() {
            Error::Protocol(e) => Some(e.root()),
            _ => None,
        }
    }

    /// The HTTP status of an API error at the root.
    pub fn status(&self) -> Option<u16> {
        self.protocol().and_then(|e| e.status())
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.root(), Error::Cancelled) || matches!(self.protocol(), Some(crate::openstack::Error::Cancelled))
    }

    /// What became of the image, when one was made and the upload failed.
    pub fn cleanup(&self) -> Option<(&str, &Cleanup)> {
        match self {
            Error::Failed { image_id, cleanup, .. } => Some((image_id, cleanup)),
            Error::Protocol(crate::openstack::Error::Abandoned { image_id, cleanup, .. }) => Some((image_id, cleanup)),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "{e}"),
            Error::File { path, detail } => write!(f, "cannot use {path}: {detail}"),
            Error::Refused { path, reasons } => write!(f, "{path} was not uploaded: {}", reasons.join("; ")),
            Error::Invalid(m) => f.write_str(m),
            Error::Stalled { secs } => write!(f, "the upload stalled: the server accepted no data for {secs} s"),
            Error::Verification { image_id, detail } => {
                write!(f, "image {image_id} does not match the file that was sent: {detail}")
            }
            Error::Cancelled => f.write_str("cancelled"),
            Error::Failed { cause, image_id, cleanup } => write!(f, "{cause}; image {image_id} {cleanup}"),
            Error::Corrupt { image_id, detail } => write!(
                f,
                "the data of image {image_id} does not match what Glance recorded ({detail}); the partial file was removed"
            ),
            Error::Partial { cause, path } => {
                write!(f, "{cause}; what arrived is kept in {path}: the same command resumes from there")
            }
            Error::SourceCorrupt { image_id, detail } => {
                write!(f, "the data of image {image_id} as its cloud sent it does not match what that cloud recorded: {detail}")
            }
            Error::RolledBack => f.write_str("another target failed, and all or nothing was asked"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Failed { cause, .. } | Error::Partial { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }
}

impl From<crate::openstack::Error> for Error {
    fn from(e: crate::openstack::Error) -> Error {
        Error::Protocol(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_upload_names_the_image_and_looks_through_to_its_cause() {
        let e = Error::Failed { cause: Box::new(Error::Cancelled), image_id: "abc".into(), cleanup: Cleanup::Deleted };
        assert_eq!(e.to_string(), "cancelled; image abc was deleted");
        assert!(e.is_cancelled());
        let api = crate::openstack::Error::Api {
            service: crate::openstack::Service::Image,
            method: "PUT".into(),
            url: "http://g/v2/images/abc/file".into(),
            status: 413,
            message: String::new(),
        };
        let e = Error::Failed { cause: Box::new(api.into()), image_id: "abc".into(), cleanup: Cleanup::Kept };
        assert_eq!(e.status(), Some(413));
        assert_eq!(e.cleanup(), Some(("abc", &Cleanup::Kept)));
        assert!(e.to_string().ends_with("; image abc was kept (--keep-on-failure)"), "{e}");
    }
}
