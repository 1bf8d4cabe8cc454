//! The library's errors in the person's language. Each layer's error `Display`s in plain
//! English; here the front ends (CLI, app) turn one into the catalogue's words for the chosen
//! language. What servers and the OS say (`detail`, `message`) and the free-text settings
//! messages pass through as they are. A test checks that the English rendering here is the
//! `Display` text, so the two cannot drift.

use std::fmt::Display;

use super::{current, tf_in, Lang};
use crate::config::{self, entry::AuthType, Missing};
use crate::openstack::session::WireWarning;
use crate::openstack::{self, error::Kind, Cleanup};
use crate::upload;

/// An error that can be shown in the person's language.
pub trait Localized: Display {
    /// The message in `lang`.
    fn in_lang(&self, lang: Lang) -> String;

    /// The message in the current language.
    fn localized(&self) -> String {
        self.in_lang(current())
    }
}

fn cleanup(lang: Lang, image_id: &str, c: &Cleanup) -> String {
    match c {
        Cleanup::Deleted => tf_in(lang, "err.cleanup.deleted", &[("id", &image_id)]),
        Cleanup::Kept => tf_in(lang, "err.cleanup.kept", &[("id", &image_id)]),
        Cleanup::DeleteFailed(why) => tf_in(lang, "err.cleanup.failed", &[("id", &image_id), ("why", why)]),
    }
}

fn kind(lang: Lang, k: Kind) -> String {
    tf_in(
        lang,
        match k {
            Kind::Image => "err.kind.image",
            Kind::Project => "err.kind.project",
        },
        &[],
    )
}

fn file(lang: Lang, path: &str, detail: &str) -> String {
    tf_in(lang, "err.file", &[("path", &path), ("detail", &detail)])
}

/// Why a profile's secret is not at hand, in words alone (the window's prompt), and what the
/// OS said, if anything (shown behind a disclosure there).
pub fn missing_secret_in_words(lang: Lang, why: &Missing, auth_type: AuthType) -> (String, Option<String>) {
    match why {
        Missing::NotSaved => (missing_secret(lang, why, auth_type), None),
        Missing::NoKeyring(d) => (tf_in(lang, "secret.no_keyring_words", &[]), Some(d.clone())),
    }
}

/// Why a profile's secret is not at hand, in `lang` (the CLI's prompt says it too).
pub fn missing_secret(lang: Lang, why: &Missing, auth_type: AuthType) -> String {
    match why {
        Missing::NotSaved => tf_in(lang, "secret.no_saved", &[("what", &secret_label(lang, auth_type))]),
        Missing::NoKeyring(d) => tf_in(lang, "secret.no_keyring", &[("detail", d)]),
    }
}

/// The kind of secret a profile needs, in `lang`.
pub fn secret_label(lang: Lang, auth_type: AuthType) -> String {
    tf_in(lang, auth_type.secret_label_key(), &[])
}

impl Localized for openstack::Error {
    fn in_lang(&self, lang: Lang) -> String {
        use openstack::Error as E;
        let tf = |key, args: &[(&str, &dyn Display)]| tf_in(lang, key, args);
        match self {
            E::Invalid(m) => m.clone(),
            E::CertFile { path, detail } => file(lang, path, detail),
            E::Unreachable { url, detail } => tf("err.unreachable", &[("url", url), ("detail", detail)]),
            E::Tls { url, detail } => tf("err.tls", &[("url", url), ("detail", detail)]),
            E::Timeout { url } => tf("err.timeout", &[("url", url)]),
            E::Connection { url, detail } => tf("err.connection", &[("url", url), ("detail", detail)]),
            E::AuthFailed { auth_url, method } => match *method {
                "password" => tf("err.auth.password", &[("url", auth_url)]),
                "application credential" => tf("err.auth.appcred", &[("url", auth_url)]),
                m => tf("err.auth.other", &[("url", auth_url), ("method", &m)]),
            },
            E::ProjectNotFound { project, auth_url } => tf("err.project", &[("project", project), ("url", auth_url)]),
            E::Api { service, method, url, status, message } => {
                let what = tf(
                    match status {
                        400 => "err.api.400",
                        401 => "err.api.401",
                        403 => "err.api.403",
                        404 => "err.api.404",
                        409 => "err.api.409",
                        413 => "err.api.413",
                        415 => "err.api.415",
                        500..=599 => "err.api.5xx",
                        _ => "err.api.other",
                    },
                    &[],
                );
                let mut s = tf(
                    "err.api",
                    &[("service", service), ("what", &what), ("status", status), ("method", method), ("url", url)],
                );
                if !message.is_empty() {
                    s.push_str(": ");
                    s.push_str(message);
                }
                s
            }
            E::NoEndpoint { service_type, interface, region, available } => {
                let mut s = tf("err.no_endpoint", &[("type", service_type), ("interface", interface)]);
                if let Some(r) = region {
                    s.push_str(&tf("err.no_endpoint.region", &[("region", r)]));
                }
                s.push_str(&if available.is_empty() {
                    tf("err.no_endpoint.none", &[("type", service_type)])
                } else {
                    tf("err.no_endpoint.available", &[("list", &available.join(", "))])
                });
                s
            }
            E::BadResponse { url, detail } => tf("err.bad_response", &[("url", url), ("detail", detail)]),
            E::Redirect { from, to } => tf("err.redirect", &[("from", from), ("to", to)]),
            E::NotFound { kind: k, name } => tf("err.not_found", &[("what", &kind(lang, *k)), ("name", name)]),
            E::Ambiguous { kind: k, name, count } => {
                tf("err.ambiguous", &[("what", &kind(lang, *k)), ("name", name), ("count", count)])
            }
            E::Import { image_id, detail } => tf("err.import", &[("id", image_id), ("detail", detail)]),
            E::Cancelled => tf("err.cancelled", &[]),
            E::Abandoned { cause, image_id, cleanup: c } => cause.in_lang(lang) + &cleanup(lang, image_id, c),
        }
    }
}

impl Localized for WireWarning {
    fn in_lang(&self, lang: Lang) -> String {
        match self {
            WireWarning::Plaintext { url } => tf_in(lang, "warn.plaintext", &[("url", url)]),
            WireWarning::Unverified => tf_in(lang, "warn.unverified", &[]),
        }
    }
}

impl Localized for config::Error {
    fn in_lang(&self, lang: Lang) -> String {
        use config::Error as E;
        match self {
            E::Invalid(m) | E::Keyring(m) => m.clone(),
            E::File { path, detail } => file(lang, path, detail),
            E::SecretNeeded { profile, auth_type, why } => tf_in(
                lang,
                "err.secret_needed",
                &[
                    ("profile", profile),
                    ("what", &secret_label(lang, *auth_type)),
                    ("why", &missing_secret(lang, why, *auth_type)),
                ],
            ),
            E::Client(e) => e.in_lang(lang),
        }
    }
}

impl Localized for upload::Error {
    fn in_lang(&self, lang: Lang) -> String {
        use upload::Error as E;
        match self {
            E::Protocol(e) => e.in_lang(lang),
            E::File { path, detail } => file(lang, path, detail),
            E::Refused { path, reasons } => {
                tf_in(lang, "err.refused", &[("path", path), ("reasons", &reasons.join("; "))])
            }
            E::Invalid(m) => m.clone(),
            E::Stalled { secs } => tf_in(lang, "err.stalled", &[("secs", secs)]),
            E::Verification { image_id, detail } => {
                tf_in(lang, "err.verification", &[("id", image_id), ("detail", detail)])
            }
            E::Cancelled => tf_in(lang, "err.cancelled", &[]),
            E::Failed { cause, image_id, cleanup: c } => cause.in_lang(lang) + &cleanup(lang, image_id, c),
            E::Corrupt { image_id, detail } => tf_in(lang, "err.corrupt", &[("id", image_id), ("detail", detail)]),
            E::Partial { cause, path } => cause.in_lang(lang) + &tf_in(lang, "err.partial", &[("path", path)]),
            E::SourceCorrupt { image_id, detail } => {
                tf_in(lang, "err.source_corrupt", &[("id", image_id), ("detail", detail)])
            }
            E::RolledBack => tf_in(lang, "err.rolled_back", &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openstack::{Error as P, Service};

    fn api(status: u16, message: &str) -> P {
        P::Api {
            service: Service::Image,
            method: "PUT".into(),
            url: "http://g/v2".into(),
            status,
            message: message.into(),
        }
    }

    /// One of every variant of every layer (and each branch that picks other words).
    fn every_error() -> Vec<Box<dyn Localized>> {
        let url = || "http://k:5000/v3".to_string();
        let d = || "connection refused".to_string();
        let mut v: Vec<Box<dyn Localized>> = vec![
            Box::new(P::Invalid("unknown interface 'x'".into())),
            Box::new(P::CertFile { path: "/ca.pem".into(), detail: d() }),
            Box::new(P::Unreachable { url: url(), detail: d() }),
            Box::new(P::Tls { url: url(), detail: d() }),
            Box::new(P::Timeout { url: url() }),
            Box::new(P::Connection { url: url(), detail: d() }),
            Box::new(P::AuthFailed { auth_url: url(), method: "password" }),
            Box::new(P::AuthFailed { auth_url: url(), method: "application credential" }),
            Box::new(P::AuthFailed { auth_url: url(), method: "token" }),
            Box::new(P::ProjectNotFound { project: "demo".into(), auth_url: url() }),
            Box::new(P::NoEndpoint {
                service_type: "image".into(),
                interface: "public".into(),
                region: Some("R2".into()),
                available: vec!["internal R1".into()],
            }),
            Box::new(P::NoEndpoint {
                service_type: "image".into(),
                interface: "public".into(),
                region: None,
                available: vec![],
            }),
            Box::new(P::BadResponse { url: url(), detail: d() }),
            Box::new(P::Redirect { from: url(), to: "http://elsewhere:5000/v3".into() }),
            Box::new(P::NotFound { kind: Kind::Image, name: "cirros".into() }),
            Box::new(P::NotFound { kind: Kind::Project, name: "demo".into() }),
            Box::new(P::Ambiguous { kind: Kind::Image, name: "cirros".into(), count: 2 }),
            Box::new(P::Ambiguous { kind: Kind::Project, name: "demo".into(), count: 3 }),
            Box::new(P::Import { image_id: "i".into(), detail: d() }),
            Box::new(P::Cancelled),
            Box::new(P::Abandoned {
                cause: Box::new(api(404, "")),
                image_id: "i".into(),
                cleanup: Cleanup::DeleteFailed("503".into()),
            }),
            Box::new(config::Error::Invalid("cloud 'x': no username".into())),
            Box::new(config::Error::File { path: "clouds.yaml:3".into(), detail: "not YAML".into() }),
            Box::new(config::Error::Keyring("the keyring is locked".into())),
            Box::new(config::Error::SecretNeeded {
                profile: "lab".into(),
                auth_type: AuthType::Password,
                why: Missing::NotSaved,
            }),
            Box::new(config::Error::SecretNeeded {
                profile: "lab".into(),
                auth_type: AuthType::ApplicationCredential,
                why: Missing::NoKeyring("no D-Bus".into()),
            }),
            Box::new(config::Error::Client(P::CertFile { path: "/c.pem".into(), detail: d() })),
            Box::new(upload::Error::File { path: "/a.qcow2".into(), detail: d() }),
            Box::new(upload::Error::Refused { path: "/a.qcow2".into(), reasons: vec!["a".into(), "b".into()] }),
            Box::new(upload::Error::Invalid("web-download does not upload a local file".into())),
            Box::new(upload::Error::Stalled { secs: 60 }),
            Box::new(upload::Error::Verification { image_id: "i".into(), detail: d() }),
            Box::new(upload::Error::Cancelled),
            Box::new(upload::Error::RolledBack),
            Box::new(upload::Error::SourceCorrupt { image_id: "i".into(), detail: d() }),
            Box::new(upload::Error::Corrupt { image_id: "i".into(), detail: d() }),
            Box::new(upload::Error::Partial {
                cause: Box::new(upload::Error::Cancelled),
                path: "/d/.a.img.i.part".into(),
            }),
            Box::new(upload::Error::Failed {
                cause: Box::new(upload::Error::Cancelled),
                image_id: "i".into(),
                cleanup: Cleanup::Kept,
            }),
            Box::new(upload::Error::Failed {
                cause: Box::new(api(413, "Image exceeds the storage quota").into()),
                image_id: "i".into(),
                cleanup: Cleanup::Deleted,
            }),
        ];
        v.push(Box::new(WireWarning::Plaintext { url: "http://cloud.example:5000/v3".into() }));
        v.push(Box::new(WireWarning::Unverified));
        for s in [400, 401, 403, 404, 409, 413, 415, 500, 418] {
            v.push(Box::new(api(s, "why")));
        }
        v
    }

    #[test]
    fn english_from_the_catalogue_is_exactly_the_display_text() {
        for e in every_error() {
            assert_eq!(e.in_lang(Lang::En), e.to_string());
        }
    }

    #[test]
    fn korean_is_korean_except_for_free_text() {
        for e in every_error() {
            let (en, ko) = (e.in_lang(Lang::En), e.in_lang(Lang::Ko));
            let free = en.starts_with("unknown interface")
                || en.starts_with("cloud 'x'")
                || en.starts_with("the keyring")
                || en.starts_with("web-download");
            assert_eq!(free, en == ko, "{en} / {ko}");
            if !free {
                assert!(ko.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{ko}");
            }
        }
    }
}
