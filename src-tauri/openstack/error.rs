//! One error type for the whole client. Its `Display` is the one line that the CLI prints and
//! the app shows: plain words, the service and the status where they help, never a secret.

use std::fmt;

/// Which OpenStack service answered, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Identity,
    Image,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Identity => "Keystone",
            Service::Image => "Glance",
        })
    }
}

#[derive(Debug)]
pub enum Error {
    /// The cloud settings are incomplete or contradictory.
    Config(String),
    /// Nothing answered at this URL (refused, DNS, no route).
    Unreachable { url: String, detail: String },
    /// The TLS handshake failed (unknown CA, wrong host name, ...).
    Tls { url: String, detail: String },
    /// The server stopped answering.
    Timeout { url: String },
    /// The connection broke while talking (reset, closed early).
    Connection { url: String, detail: String },
    /// Keystone refused the credentials (wrong password and unknown user look the same).
    AuthFailed { auth_url: String, method: &'static str },
    /// The credentials are good but the project does not exist or grants the user no role.
    ProjectNotFound { project: String, auth_url: String },
    /// An API answered with an error status.
    Api { service: Service, method: String, url: String, status: u16, message: String },
    /// The catalog has no matching endpoint.
    NoEndpoint { service_type: String, interface: String, region: Option<String>, available: Vec<String> },
    /// A reply could not be understood.
    BadResponse { url: String, detail: String },
    /// A local file could not be used.
    File { path: String, detail: String },
    /// The image reached `active` but does not match what was sent.
    Verification { image_id: String, detail: String },
    /// The file's own headers show Glance would refuse it (or it is not what was declared).
    Refused { path: String, reasons: Vec<String> },
    /// The server stopped accepting the upload's bytes.
    Stalled { secs: u64 },
    /// Glance's import task did not bring the image to `active` in its stores.
    Import { image_id: String, detail: String },
    /// The user cancelled.
    Cancelled,
    /// The OS keyring could not do what was asked (the message says what and what to do).
    Keyring(String),
    /// A profile's secret is neither saved nor given: ask the person for it.
    SecretNeeded { profile: String, what: &'static str, why: String },
    /// An upload failed after the image was created; says what became of that image.
    Upload { cause: Box<Error>, image_id: String, cleanup: Cleanup },
}

/// What happened to an image created for an upload that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    Deleted,
    Kept,
    DeleteFailed(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of an API error, looking through an upload failure.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Upload { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// The innermost cause (an upload failure's reason).
    pub fn root(&self) -> &Error {
        match self {
            Error::Upload { cause, .. } => cause.root(),
            e => e,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.root(), Error::Cancelled)
    }
}

/// Every message comes from the catalogue (`crate::i18n`), in the person's language; what
/// servers and the OS say (`detail`, `message`) is passed through as it is.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::i18n::{t, tf};
        match self {
            Error::Config(m) => write!(f, "{m}"),
            Error::Unreachable { url, detail } => {
                f.write_str(&tf("err.unreachable", &[("url", url), ("detail", detail)]))
            }
            Error::Tls { url, detail } => f.write_str(&tf("err.tls", &[("url", url), ("detail", detail)])),
            Error::Timeout { url } => f.write_str(&tf("err.timeout", &[("url", url)])),
            Error::Connection { url, detail } => {
                f.write_str(&tf("err.connection", &[("url", url), ("detail", detail)]))
            }
            Error::AuthFailed { auth_url, method } => f.write_str(&match *method {
                "password" => tf("err.auth.password", &[("url", auth_url)]),
                "application credential" => tf("err.auth.appcred", &[("url", auth_url)]),
                m => tf("err.auth.other", &[("url", auth_url), ("method", &m)]),
            }),
            Error::ProjectNotFound { project, auth_url } => {
                f.write_str(&tf("err.project", &[("project", project), ("url", auth_url)]))
            }
            Error::Api { service, method, url, status, message } => {
                let what = t(match status {
                    400 => "err.api.400",
                    401 => "err.api.401",
                    403 => "err.api.403",
                    404 => "err.api.404",
                    409 => "err.api.409",
                    413 => "err.api.413",
                    415 => "err.api.415",
                    500..=599 => "err.api.5xx",
                    _ => "err.api.other",
                });
                let args: [(&str, &dyn fmt::Display); 5] =
                    [("service", service), ("what", &what), ("status", status), ("method", method), ("url", url)];
                f.write_str(&tf("err.api", &args))?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::NoEndpoint { service_type, interface, region, available } => {
                f.write_str(&tf("err.no_endpoint", &[("type", service_type), ("interface", interface)]))?;
                if let Some(r) = region {
                    f.write_str(&tf("err.no_endpoint.region", &[("region", r)]))?;
                }
                if available.is_empty() {
                    f.write_str(&tf("err.no_endpoint.none", &[("type", service_type)]))
                } else {
                    f.write_str(&tf("err.no_endpoint.available", &[("list", &available.join(", "))]))
                }
            }
            Error::BadResponse { url, detail } => {
                f.write_str(&tf("err.bad_response", &[("url", url), ("detail", detail)]))
            }
            Error::File { path, detail } => f.write_str(&tf("err.file", &[("path", path), ("detail", detail)])),
            Error::Verification { image_id, detail } => {
                f.write_str(&tf("err.verification", &[("id", image_id), ("detail", detail)]))
            }
            Error::Refused { path, reasons } => {
                f.write_str(&tf("err.refused", &[("path", path), ("reasons", &reasons.join("; "))]))
            }
            Error::Import { image_id, detail } => {
                f.write_str(&tf("err.import", &[("id", image_id), ("detail", detail)]))
            }
            Error::Stalled { secs } => f.write_str(&tf("err.stalled", &[("secs", secs)])),
            Error::Cancelled => f.write_str(t("err.cancelled")),
            Error::Keyring(m) => write!(f, "{m}"),
            Error::SecretNeeded { profile, what, why } => {
                f.write_str(&tf("err.secret_needed", &[("profile", profile), ("what", what), ("why", why)]))
            }
            Error::Upload { cause, image_id, cleanup } => {
                write!(f, "{cause}")?;
                f.write_str(&match cleanup {
                    Cleanup::Deleted => tf("err.cleanup.deleted", &[("id", image_id)]),
                    Cleanup::Kept => tf("err.cleanup.kept", &[("id", image_id)]),
                    Cleanup::DeleteFailed(why) => tf("err.cleanup.failed", &[("id", image_id), ("why", why)]),
                })
            }
        }
    }
}

impl std::error::Error for Error {}

/// Turn an OpenStack error body into one readable sentence.
///
/// Keystone sends `{"error": {"message": ...}}`; Glance sends `{"message": ...}` padded with
/// `<br />` line breaks (or an HTML page when the request did not ask for JSON). Schema errors
/// are cut before their "Failed validating" dump, and an enum error is rewritten to name the
/// field and list the allowed values.
pub fn clean_message(body: &str) -> String {
    let raw = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => v
            .pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| body.trim().to_owned()),
        Err(_) => strip_html(body),
    };
    let raw = raw.replace("<br />", "\n").replace("<br/>", "\n");
    let (head, schema_dump) = match raw.find("Failed validating") {
        Some(i) => (&raw[..i], &raw[i..]),
        None => (raw.as_str(), ""),
    };
    let mut lines: Vec<&str> = head
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        // Glance's 415 starts with a generic template line; the specific reason follows.
        .filter(|l| !(l.starts_with("The request media type") && l.ends_with("is not supported by this server.")))
        .collect();
    if lines.is_empty() {
        lines = head.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    }
    let text = lines.join(" ");
    if let Some(better) = explain_enum(&text, schema_dump) {
        return better;
    }
    let text = text.strip_prefix("Provided object does not match schema 'image': ").unwrap_or(&text);
    truncate(text, 400)
}

/// "'qcow3' is not one of [None, 'ami', ...]" -> "disk_format 'qcow3' is not allowed; Glance accepts: ami, ..."
fn explain_enum(text: &str, schema_dump: &str) -> Option<String> {
    let at = text.find(" is not one of [")?;
    let value = text[..at].rsplit(": ").next()?.trim();
    let list_start = at + " is not one of [".len();
    let list_end = list_start + text[list_start..].find(']')?;
    let allowed: Vec<&str> = text[list_start..list_end]
        .split(',')
        .map(|s| s.trim().trim_matches('\''))
        .filter(|s| !s.is_empty() && *s != "None")
        .collect();
    let field = schema_dump
        .find("['properties']['")
        .map(|i| &schema_dump[i + "['properties']['".len()..])
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or("value");
    Some(format!("{field} {value} is not allowed; Glance accepts: {}", allowed.join(", ")))
}

fn strip_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_415_keeps_the_reason_not_the_template() {
        let body = r#"{"message": "The request media type application/octet-stream is not supported by this server.\n<br /><br />\nImage disk_format qcow2 does not match stream data raw", "code": "415 Unsupported Media Type", "title": "Unsupported Media Type"}"#;
        assert_eq!(clean_message(body), "Image disk_format qcow2 does not match stream data raw");
    }

    #[test]
    fn glance_409_loses_its_br_noise() {
        let body = r#"{"message": "Image status transition from active to saving is not allowed<br /><br />\n\n\n", "code": "409 Conflict", "title": "Conflict"}"#;
        assert_eq!(clean_message(body), "Image status transition from active to saving is not allowed");
    }

    #[test]
    fn keystone_error_object() {
        let body = r#"{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}"#;
        assert_eq!(clean_message(body), "The request you have made requires authentication.");
    }

    #[test]
    fn gunicorn_html_page_is_reduced_to_text() {
        let body = "<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n    <h1><p>Bad Request</p></h1>\n    Configuration problem: Request path &#x27;/&#x27; does not start with SCRIPT_NAME &#x27;/image&#x27;\n  </body>\n</html>\n";
        assert_eq!(
            clean_message(body),
            "Bad Request Bad Request Configuration problem: Request path '/' does not start with SCRIPT_NAME '/image'"
        );
    }

    #[test]
    fn upload_error_names_the_deleted_image() {
        let e = Error::Upload { cause: Box::new(Error::Cancelled), image_id: "abc".into(), cleanup: Cleanup::Deleted };
        assert_eq!(e.to_string(), "cancelled; image abc was deleted");
        assert!(e.is_cancelled());
    }
}
