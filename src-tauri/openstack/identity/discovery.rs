//! Keystone version discovery: `GET $auth_url` -> 300 Multiple Choices, listing the API
//! versions; v3's link is the identity endpoint.
//!
//! Host choice: discovery documents are built from Keystone's `public_endpoint` and may name
//! another host than the one the user configured (a devstack answers
//! `182.161.114.101` to a request for `devstack-debug`; the lab always says `127.0.0.1`).
//! Like keystoneauth, we keep the configured scheme, host and port and take only the *path*
//! from the document: the configured host is the one we know is reachable from here (NAT,
//! split DNS, TLS certificate names), while the advertised one may be an internal name.

use reqwest::{Method, Url};
use serde_json::Value;

use crate::openstack::error::{Error, Result, Service};
use crate::openstack::http::Http;

/// One entry of a discovery document.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionEntry {
    pub id: String,
    pub status: String,
    pub href: Option<String>,
}

/// Accepts the three shapes in the wild: `{"versions": {"values": [...]}}` (Keystone),
/// `{"versions": [...]}` (Glance, some proxies), and `{"version": {...}}` (a versioned URL).
pub fn parse_versions(doc: &Value) -> Vec<VersionEntry> {
    let list: Vec<&Value> = match (doc.get("versions"), doc.get("version")) {
        (Some(Value::Object(o)), _) => {
            o.get("values").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
        }
        (Some(Value::Array(a)), _) => a.iter().collect(),
        (None, Some(v @ Value::Object(_))) => vec![v],
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|v| {
            let id = v.get("id")?.as_str()?.to_owned();
            let status = v.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
            let href = v
                .get("links")
                .and_then(Value::as_array)
                .and_then(|links| links.iter().find(|l| l.get("rel").and_then(Value::as_str) == Some("self")))
                .and_then(|l| l.get("href"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some(VersionEntry { id, status, href })
        })
        .collect()
}

/// Major and minor of an id like `v3.14` or `v2.0`.
pub fn version_number(id: &str) -> Option<(u32, u32)> {
    let s = id.trim_start_matches(['v', 'V']);
    let mut it = s.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map(|m| m.parse().unwrap_or(0)).unwrap_or(0);
    Some((major, minor))
}

/// The best usable entry of the wanted major version: not deprecated, highest minor.
pub fn pick(entries: &[VersionEntry], major: u32) -> Option<&VersionEntry> {
    entries
        .iter()
        .filter(|e| version_number(&e.id).map(|(m, _)| m) == Some(major))
        .filter(|e| !matches!(e.status.to_ascii_lowercase().as_str(), "deprecated" | "experimental"))
        .max_by_key(|e| version_number(&e.id))
}

/// Keep `configured`'s scheme, host and port; take the path of `advertised`.
pub fn rebase(configured: &Url, advertised: &str) -> Option<Url> {
    let adv = Url::parse(advertised).or_else(|_| configured.join(advertised)).ok()?;
    let mut out = configured.clone();
    out.set_path(adv.path());
    out.set_query(None);
    Some(out)
}

/// Does this URL already name a Keystone v3 API (`…/v3` or `…/v3/`)?
pub fn is_versioned_v3(u: &Url) -> bool {
    u.path().trim_end_matches('/').rsplit('/').next().is_some_and(|last| last == "v3" || last.starts_with("v3."))
}

/// The v3 base URL (with a trailing slash) for an auth URL with or without `/v3`, with or
/// without a path prefix.
pub async fn discover_v3(http: &Http, auth_url: &Url) -> Result<Url> {
    let mut unversioned = auth_url.clone();
    if is_versioned_v3(auth_url) {
        // A versioned URL is what the user asked for; a GET on it would only repeat it.
        return Ok(with_slash(auth_url.clone()));
    }
    if !unversioned.path().ends_with('/') {
        unversioned.set_path(&format!("{}/", unversioned.path()));
    }
    let req = http.request(Method::GET, auth_url.as_str());
    match http.json(Service::Identity, req).await {
        Ok(doc) => {
            let entries = parse_versions(&doc);
            if let Some(v3) = pick(&entries, 3) {
                if let Some(u) = v3.href.as_deref().and_then(|h| rebase(auth_url, h)) {
                    return Ok(with_slash(u));
                }
            }
            if !entries.is_empty() {
                let ids: Vec<_> = entries.iter().map(|e| e.id.as_str()).collect();
                return Err(Error::BadResponse {
                    url: auth_url.to_string(),
                    detail: format!("Keystone offers no v3 API (it offers {})", ids.join(", ")),
                });
            }
            Ok(fallback(&unversioned))
        }
        // Unreachable is final: guessing a path will not make the host answer.
        Err(e @ (Error::Unreachable { .. } | Error::Tls { .. } | Error::Timeout { .. })) => Err(e),
        // A proxy that hides the root, a 404, an HTML page: assume the usual layout.
        Err(e) => {
            tracing::debug!("identity discovery at {auth_url} failed ({e}); assuming {auth_url}/v3");
            Ok(fallback(&unversioned))
        }
    }
}

fn fallback(unversioned: &Url) -> Url {
    crate::openstack::http::join(unversioned, "v3/")
}

fn with_slash(mut u: Url) -> Url {
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn three_shapes() {
        let keystone = json!({"versions": {"values": [{"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": "http://182.161.114.101/identity/v3/"}]}]}});
        let plain = json!({"versions": [{"id": "v3.14", "status": "CURRENT", "links": [{"rel": "self", "href": "http://x/v3/"}]}]});
        let single =
            json!({"version": {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": "http://x/v3/"}]}});
        for doc in [keystone, plain, single] {
            let e = parse_versions(&doc);
            assert_eq!(e.len(), 1, "{doc}");
            assert_eq!(e[0].id, "v3.14");
        }
    }

    #[test]
    fn keeps_configured_host_takes_advertised_path() {
        let cfg = Url::parse("http://devstack-debug/identity").unwrap();
        let u = rebase(&cfg, "http://182.161.114.101/identity/v3/").unwrap();
        assert_eq!(u.as_str(), "http://devstack-debug/identity/v3/");
    }

    #[test]
    fn picks_highest_usable_minor() {
        let doc = json!({"versions": [
            {"id": "v2.0", "status": "SUPPORTED"}, {"id": "v2.18", "status": "CURRENT"},
            {"id": "v2.19", "status": "EXPERIMENTAL"}, {"id": "v1.1", "status": "DEPRECATED"}]});
        assert_eq!(pick(&parse_versions(&doc), 2).unwrap().id, "v2.18");
        assert!(pick(&parse_versions(&doc), 3).is_none());
    }

    #[test]
    fn versioned_urls() {
        for (u, want) in [
            ("http://h:5000/v3", true),
            ("http://h:5000/v3/", true),
            ("http://h/identity/v3", true),
            ("http://h/identity", false),
            ("http://h:5000", false),
            ("http://h/v3x", false),
        ] {
            assert_eq!(is_versioned_v3(&Url::parse(u).unwrap()), want, "{u}");
        }
    }
}
