//! The protocol layer's error: what talking to Keystone and Glance can go wrong with. Its
//! `Display` is one plain English line with the service and the status where they help, never
//! a secret; the front ends show it in the person's language through
//! `crate::i18n::Localized`. Settings and keyring problems are [`crate::config::Error`],
//! local-file and transfer problems [`crate::upload::Error`].

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

/// What a name or id was looked up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Project,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Project => "project",
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// The request cannot be made as asked: an unknown interface, an import method or store
    /// this cloud does not offer, a choice the catalog leaves open.
    Invalid(String),
    /// A CA bundle or client certificate named in the settings cannot be used.
    CertFile { path: String, detail: String },
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
    /// A server redirected to another scheme, host or port; not followed, so that no token or
    /// credential goes there.
    Redirect { from: String, to: String },
    /// Nothing has this name or id.
    NotFound { kind: Kind, name: String },
    /// Several have this name.
    Ambiguous { kind: Kind, name: String, count: usize },
    /// Glance's import task did not bring the image to `active` in its stores.
    Import { image_id: String, detail: String },
    /// The person cancelled a wait (a web-download in progress).
    Cancelled,
    /// A server-side import (web-download) failed after its image was created; says what
    /// became of that image.
    Abandoned { cause: Box<Error>, image_id: String, cleanup: Cleanup },
}

/// What happened to an image created for an upload or import that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    Deleted,
    Kept,
    DeleteFailed(String),
}

impl fmt::Display for Cleanup {
    /// The clause after the cause: "; image … was deleted".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cleanup::Deleted => f.write_str("was deleted"),
            Cleanup::Kept => f.write_str("was kept (--keep-on-failure)"),
            Cleanup::DeleteFailed(why) => write!(f, "could NOT be deleted ({why}): delete it by hand"),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of an API error, looking through an abandoned import.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Abandoned { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// The innermost cause (an abandoned import's reason).
    pub fn root(&self) -> &Error {
        match self {
            Error::Abandoned { cause, .. } => cause.root(),
            e => e,
        }
    }
}

/// What an API's error status means, in a few words.
pub fn status_words(status: u16) -> &'static str {
    match status {
        400 => "rejected the request",
        401 => "refused the token",
        403 => "forbids this",
        404 => "has no such thing",
        409 => "reports a conflict",
        413 => "refused the size (image size cap or storage quota exceeded)",
        415 => "rejected the data",
        500..=599 => "failed internally",
        _ => "answered with an error",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) => f.write_str(m),
            Error::CertFile { path, detail } => write!(f, "cannot use {path}: {detail}"),
            Error::Unreachable { url, detail } => write!(f, "cannot reach {url}: {detail}"),
            Error::Tls { url, detail } => write!(
                f,
                "TLS failure talking to {url}: {detail} (give the cloud's CA bundle with --os-cacert or `cacert` in clouds.yaml)"
            ),
            Error::Timeout { url } => write!(f, "{url} stopped answering (timed out)"),
            Error::Connection { url, detail } => write!(f, "the connection to {url} broke: {detail}"),
            Error::AuthFailed { auth_url, method } => match *method {
                "password" => write!(
                    f,
                    "Keystone at {auth_url} refused the credentials: wrong user name, password or user domain (Keystone does not say which)"
                ),
                "application credential" => write!(
                    f,
                    "Keystone at {auth_url} refused the application credential: wrong id, name or secret, or it has expired"
                ),
                m => write!(f, "Keystone at {auth_url} refused the {m}: it is invalid or has expired"),
            },
            Error::ProjectNotFound { project, auth_url } => write!(
                f,
                "the credentials are valid, but project {project} does not exist at {auth_url} or gives this user no role"
            ),
            Error::Api { service, method, url, status, message } => {
                write!(f, "{service} {} ({status} on {method} {url})", status_words(*status))?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::NoEndpoint { service_type, interface, region, available } => {
                write!(f, "the service catalog has no '{service_type}' endpoint for interface {interface}")?;
                if let Some(r) = region {
                    write!(f, " in region {r}")?;
                }
                if available.is_empty() {
                    write!(f, " (the catalog has no '{service_type}' service at all; an unscoped token has an empty catalog: set a project)")
                } else {
                    write!(f, " (available: {})", available.join(", "))
                }
            }
            Error::BadResponse { url, detail } => write!(f, "unexpected reply from {url}: {detail}"),
            Error::Redirect { from, to } => write!(
                f,
                "{from} redirected to {to}, another scheme, host or port; Stackdrop does not follow that, so that no token or password goes there (if the service moved, put its new address in the settings)"
            ),
            Error::NotFound { kind, name } => write!(f, "no {} with the id or name '{name}'", kind.noun()),
            Error::Ambiguous { kind, name, count } => {
                write!(f, "{count} {}s are named '{name}': give the id instead", kind.noun())
            }
            Error::Import { image_id, detail } => write!(f, "Glance's import of image {image_id} failed: {detail}"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::Abandoned { cause, image_id, cleanup } => write!(f, "{cause}; image {image_id} {cleanup}"),
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
    fn an_abandoned_import_names_its_image_and_what_became_of_it() {
        let cause = Error::Import { image_id: "abc".into(), detail: "the URL answered 404".into() };
        let e = Error::Abandoned { cause: Box::new(cause), image_id: "abc".into(), cleanup: Cleanup::Deleted };
        assert_eq!(e.to_string(), "Glance's import of image abc failed: the URL answered 404; image abc was deleted");
        assert!(matches!(e.root(), Error::Import { .. }));
    }
}
