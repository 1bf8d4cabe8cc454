//! Glance version discovery: `GET $image_endpoint` -> 300 Multiple Choices; the v2 API's
//! link is where the image calls go.

use reqwest::{Method, Url};

use crate::openstack::error::{Error, Result, Service};
use crate::openstack::http::Http;
use crate::openstack::identity::discovery::{parse_versions, pick};

/// The catalog may hold a versioned URL (`…/v2`, `…/v2.0/`); discovery and every path we
/// build start from the unversioned root, which keeps any prefix such as `/image`.
pub fn unversioned(endpoint: &Url) -> Url {
    let mut u = endpoint.clone();
    let path = u.path().trim_end_matches('/').to_owned();
    let base = match path.rsplit_once('/') {
        Some((head, last)) if is_version_segment(last) => head.to_owned(),
        _ => path,
    };
    u.set_path(if base.is_empty() { "/" } else { &base });
    u.set_query(None);
    u
}

fn is_version_segment(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(['v', 'V']) else { return false };
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// What discovery found: the v2 minor version, for information.
#[derive(Debug, Clone)]
pub struct ImageApiVersion {
    pub id: String,
}

/// `GET` the unversioned endpoint and require a v2 API. A root that does not answer with a
/// version document (a proxy that only forwards `/v2`, say) is assumed to serve v2: the
/// following calls will tell if it does not.
pub async fn discover(http: &Http, root: &Url) -> Result<ImageApiVersion> {
    let req = http.request(Method::GET, root.as_str());
    match http.json(Service::Image, req).await {
        Ok(doc) => {
            let entries = parse_versions(&doc);
            if let Some(v2) = pick(&entries, 2) {
                return Ok(ImageApiVersion { id: v2.id.clone() });
            }
            if entries.is_empty() {
                return Ok(ImageApiVersion { id: String::from("v2 (assumed)") });
            }
            let ids: Vec<_> = entries.iter().map(|e| e.id.as_str()).collect();
            Err(Error::BadResponse {
                url: root.to_string(),
                detail: format!("Glance offers no v2 API (it offers {})", ids.join(", ")),
            })
        }
        Err(e @ (Error::Unreachable { .. } | Error::Tls { .. } | Error::Timeout { .. })) => Err(e),
        Err(e) => {
            tracing::debug!("image discovery at {root} failed ({e}); assuming v2");
            Ok(ImageApiVersion { id: String::from("v2 (assumed)") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_a_version_keeps_a_prefix() {
        for (given, want) in [
            ("http://h:9292", "http://h:9292/"),
            ("http://h:9292/v2", "http://h:9292/"),
            ("http://h:9292/v2.0/", "http://h:9292/"),
            ("http://h/image", "http://h/image"),
            ("http://h/image/v2/", "http://h/image"),
            ("http://h/images", "http://h/images"),
        ] {
            assert_eq!(unversioned(&Url::parse(given).unwrap()).as_str(), want, "{given}");
        }
    }
}
