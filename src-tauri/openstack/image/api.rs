//! Glance v2 image calls: create (`POST /v2/images` -> `queued`), upload (`PUT …/file` -> 204),
//! show, list, update, delete, and the interoperable-import calls.

use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::openstack::error::{Cleanup, Error, Kind, Result, Service};
use crate::openstack::http::{is_transient, join, read_json};
use crate::openstack::retry::{retry, RetryPolicy};
use crate::openstack::session::Session;

use super::edit::ImageEdit;
use super::query::ImageQuery;
use super::types::ImageStatus;

pub use super::types::{Image, CORE_FIELDS};

impl Image {
    /// Read Glance's answer as an image.
    pub fn from_value(v: Value, url: &str) -> Result<Image> {
        // Read from a borrow: the body is only printed when it is not an image.
        Image::deserialize(&v).map_err(|e| {
            let shown = v.to_string();
            Error::BadResponse {
                url: url.to_owned(),
                detail: format!("not an image ({e}): {}", truncated(&shown, 200)),
            }
        })
    }
}

pub struct Images<'a> {
    s: &'a Session,
}

impl<'a> Images<'a> {
    pub fn new(s: &'a Session) -> Images<'a> {
        Images { s }
    }

    async fn url(&self, path: &str) -> Result<Url> {
        Ok(join(&self.s.image_service().await?.root, path))
    }

    /// One API call; a 401 (the token was revoked, or a stored one is no longer accepted) gets
    /// one new token and one more try, as keystoneauth does.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Value)>,
    ) -> Result<reqwest::Response> {
        self.call_with(method, path, &[], body).await
    }

    /// [`call`](Self::call) with query parameters.
    pub(crate) async fn call_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, Value)>,
    ) -> Result<reqwest::Response> {
        self.request(method, path, query, &[], body).await
    }

    /// [`call`](Self::call) with extra headers (a `Range`).
    pub(crate) async fn call_headers(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
    ) -> Result<reqwest::Response> {
        self.request(method, path, &[], headers, None).await
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        body: Option<(&str, Value)>,
    ) -> Result<reqwest::Response> {
        let url = self.url(path).await?;
        let token = self.s.token().await?;
        let build = |token: &str| {
            let mut req =
                self.s.http().request(method.clone(), url.as_str()).query(query).header("X-Auth-Token", token);
            for (k, v) in headers {
                req = req.header(*k, v.as_str());
            }
            if let Some((content_type, body)) = &body {
                req = req.header(reqwest::header::CONTENT_TYPE, *content_type).body(body.to_string());
            }
            req
        };
        match self.s.http().send(Service::Image, build(token.value.expose())).await {
            Err(Error::Api { status: 401, .. }) => {
                tracing::debug!("401 from Glance on {path}: getting a new token");
                let token = self.s.reauthenticate().await?;
                self.s.http().send(Service::Image, build(token.value.expose())).await
            }
            other => other,
        }
    }

    pub(crate) async fn call_json(&self, method: Method, path: &str, body: Option<(&str, Value)>) -> Result<Value> {
        let resp = self.call(method, path, body).await?;
        let url = resp.url().to_string();
        read_json(&url, resp).await
    }

    /// `POST /v2/images` -> 201, `queued`.
    pub async fn create(&self, body: &Map<String, Value>) -> Result<Image> {
        let v =
            self.call_json(Method::POST, "/v2/images", Some(("application/json", Value::Object(body.clone())))).await?;
        Image::from_value(v, "/v2/images")
    }

    pub async fn get(&self, id: &str) -> Result<Image> {
        let path = image_path(id, "")?;
        let v = self.call_json(Method::GET, &path, None).await?;
        Image::from_value(v, &path)
    }

    /// All images matching `query` (Glance filters such as `name`), following `next` links.
    pub async fn list(&self, query: &[(&str, &str)]) -> Result<Vec<Image>> {
        let mut q: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        q.push(("limit".into(), super::query::DEFAULT_PAGE.to_string()));
        Ok(self.pages(q, false, None).await?.0)
    }

    /// The images an [`ImageQuery`] asks for (Glance's filters and paging; the caller applies
    /// property filters and sorting, see [`super::query`]).
    pub async fn list_where(&self, query: &ImageQuery) -> Result<Vec<Image>> {
        Ok(self.pages(query.params()?, query.one_page, query.max_items).await?.0)
    }

    /// One page of an [`ImageQuery`] and the marker of the next (none at the end): the window
    /// loads a long list a page at a time.
    pub async fn page(&self, query: &ImageQuery) -> Result<Page> {
        let (images, next) = self.pages(query.params()?, true, None).await?;
        Ok(Page { images, next_marker: next })
    }

    /// Follow Glance's `next` links from a first query; at most `max` images, or one page.
    /// Returns the images and the marker Glance's last `next` link carried.
    async fn pages(
        &self,
        first: Vec<(String, String)>,
        one_page: bool,
        max: Option<usize>,
    ) -> Result<(Vec<Image>, Option<String>)> {
        let mut out = Vec::new();
        // Glance's `next` link carries the query (with its marker) itself. A server that
        // never stops (or repeats a page) is cut off.
        let mut path = "/v2/images".to_owned();
        let mut q: Vec<(&str, &str)> = first.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut seen = std::collections::HashSet::new();
        loop {
            if seen.len() >= MAX_PAGES || !seen.insert(path.clone()) {
                return Err(Error::BadResponse {
                    url: path,
                    detail: format!("Glance's image list did not end after {} pages", seen.len()),
                });
            }
            let resp = self.call_with(Method::GET, &path, &q, None).await?;
            let url = resp.url().to_string();
            let v = read_json(&url, resp).await?;
            q.clear();
            for img in v.get("images").and_then(Value::as_array).into_iter().flatten() {
                if max.is_some_and(|m| out.len() >= m) {
                    break;
                }
                out.push(Image::from_value(img.clone(), &path)?);
            }
            let next = match v.get("next").and_then(Value::as_str) {
                Some(next) if next.starts_with("/v2/images") => Some(next.to_owned()),
                Some(next) if !next.is_empty() => {
                    return Err(Error::BadResponse { url: path, detail: format!("a 'next' link elsewhere: {next}") })
                }
                _ => None,
            };
            match next {
                Some(next) if !one_page && max.is_none_or(|m| out.len() < m) => path = next,
                next => return Ok((out, next.as_deref().and_then(marker_of))),
            }
        }
    }

    /// `DELETE /v2/images/{id}`. The HTTP layer sends a DELETE again after a 5xx or a broken
    /// connection; when the first one had done the work, Glance refuses the repeat ("Image
    /// status transition from deleted to deleted", 400). Then — and after any 5xx — the image
    /// itself is asked: gone or deleted counts as deleted.
    pub async fn delete(&self, id: &str) -> Result<()> {
        match self.call(Method::DELETE, &image_path(id, "")?, None).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.status(), Some(400) | Some(500..=599)) || is_transient(&e) => {
                match self.get(id).await {
                    Err(Error::Api { status: 404, .. }) => Ok(()),
                    Ok(img) if matches!(img.status(), ImageStatus::Deleted | ImageStatus::PendingDelete) => Ok(()),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Delete an image this client made for a transfer that failed. Glance may still be busy
    /// with the aborted upload (it can answer 409 or 500 for a moment), so this tries for a few
    /// seconds before giving up; gone already counts as deleted.
    pub async fn remove_made(&self, id: &str) -> Cleanup {
        let busy = |e: &Error| matches!(e.status(), Some(409) | Some(500..=599)) || is_transient(e);
        let delete = || retry(RetryPolicy::CLEANUP, "delete the image", |_| self.delete(id), busy);
        let mut result = delete().await;
        // A protected image refuses (403): unprotect it, then delete.
        if matches!(result, Err(Error::Api { status: 403, .. }))
            && self.get(id).await.is_ok_and(|i| i.protected == Some(true))
        {
            let unprotect = json!({"op": "replace", "path": "/protected", "value": false});
            if let Err(e) = self.patch(id, vec![unprotect]).await {
                return Cleanup::DeleteFailed(format!("it is protected, and unprotecting it failed: {e}"));
            }
            result = delete().await;
        }
        match result {
            Ok(()) | Err(Error::Api { status: 404, .. }) => Cleanup::Deleted,
            // A repeated DELETE whose first try took (its answer lost, or a 5xx after the
            // work was done) is refused (Glance: 400 "from deleted to deleted"): ask the image
            // itself whether it is gone.
            Err(e) => match self.get(id).await {
                Err(Error::Api { status: 404, .. }) => Cleanup::Deleted,
                Ok(img) if matches!(img.status(), ImageStatus::Deleted | ImageStatus::PendingDelete) => {
                    Cleanup::Deleted
                }
                _ => Cleanup::DeleteFailed(e.to_string()),
            },
        }
    }

    /// JSON-patch `add` of string properties (add replaces an existing member), and any
    /// further operations `more`.
    pub async fn set_properties(&self, id: &str, props: &[(&str, String)], more: Vec<Value>) -> Result<Image> {
        let mut ops: Vec<Value> =
            props.iter().map(|(k, v)| json!({"op": "add", "path": format!("/{k}"), "value": v})).collect();
        ops.extend(more);
        self.patch(id, ops).await
    }

    /// `PATCH /v2/images/{id}` with JSON-patch operations. `add` and `replace` give the same
    /// image however often they are applied, so a 5xx (Glance's database busy with an import
    /// task, say) or a broken connection is answered by sending it again.
    pub async fn patch(&self, id: &str, ops: Vec<Value>) -> Result<Image> {
        let path = image_path(id, "")?;
        let body = Value::Array(ops);
        // `remove` is not: a second one after a first that took is refused.
        let idempotent = body.as_array().is_some_and(|ops| ops.iter().all(|o| o["op"] != "remove"));
        let again = |e: &Error| idempotent && (matches!(e.status(), Some(500..=599)) || is_transient(e));
        let once = |_| {
            self.call_json(Method::PATCH, &path, Some(("application/openstack-images-v2.1-json-patch", body.clone())))
        };
        let v = retry(RetryPolicy::REQUESTS, "update the image", once, again).await?;
        Image::from_value(v, &path)
    }

    /// Apply an [`ImageEdit`] to `image` as it was read: one PATCH with only what changes
    /// (none when nothing does).
    pub async fn update(&self, image: &Image, edit: &ImageEdit) -> Result<Image> {
        let ops = edit.ops(image)?;
        if ops.is_empty() {
            return Ok(image.clone());
        }
        self.patch(image.id(), ops).await
    }

    /// `PUT …/file` with a streamed body of exactly `len` bytes -> 204.
    pub async fn upload(&self, image: &Image, body: reqwest::Body, len: u64) -> Result<()> {
        self.put_data(image.id(), &image.file_path(), body, len).await
    }

    /// `PUT …/stage` (interoperable import, glance-direct) -> 204, status `uploading`.
    pub async fn stage(&self, image: &Image, body: reqwest::Body, len: u64) -> Result<()> {
        self.put_data(image.id(), &image_path(image.id(), "/stage")?, body, len).await
    }

    /// `POST …/import` with `{"method": …, "stores": …}` -> 202; the import runs in Glance.
    pub async fn import(&self, id: &str, body: Value) -> Result<()> {
        self.call(Method::POST, &image_path(id, "/import")?, Some(("application/json", body))).await.map(drop)
    }

    /// The import methods this cloud offers (`GET /v2/info/import`).
    pub async fn import_methods(&self) -> Result<Vec<String>> {
        let v = self.call_json(Method::GET, "/v2/info/import", None).await?;
        Ok(strings(v.pointer("/import-methods/value")))
    }

    /// The stores this cloud offers (`GET /v2/info/stores`); empty when it has no multi-store.
    pub async fn stores(&self) -> Result<Vec<String>> {
        match self.call_json(Method::GET, "/v2/info/stores", None).await {
            Ok(v) => Ok(v
                .get("stores")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()),
            Err(Error::Api { status: 404, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Glance answers a PUT it refuses at once (an image that is not `queued`: 409; over the
    /// size cap: 413) and closes the connection while the body is still being sent, so the
    /// client may see only a broken connection. Then the image's status tells which it was.
    async fn put_data(&self, id: &str, path: &str, body: reqwest::Body, len: u64) -> Result<()> {
        let url = self.url(path).await?;
        let token = self.s.token().await?;
        let req = self
            .s
            .http()
            .request(Method::PUT, url.as_str())
            .header("X-Auth-Token", token.value.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .header("X-OpenStack-Image-Size", len)
            .body(body);
        match self.s.http().send(Service::Image, req).await {
            Ok(_) => Ok(()),
            Err(broke @ Error::Connection { .. }) => match self.get(id).await {
                Ok(img)
                    if matches!(
                        img.status,
                        ImageStatus::Active | ImageStatus::Deactivated | ImageStatus::Importing
                    ) =>
                {
                    Err(Error::Api {
                        service: Service::Image,
                        method: "PUT".into(),
                        url: url.to_string(),
                        status: 409,
                        message: format!("the image is '{}': Glance takes data only into a queued image", img.status()),
                    })
                }
                _ => Err(broke),
            },
            Err(e) => Err(e),
        }
    }

    /// An image by id, or else by exact name (which must be unique).
    pub async fn find(&self, name_or_id: &str) -> Result<Image> {
        match self.get(name_or_id).await {
            Ok(img) => return Ok(img),
            Err(Error::Api { status: 404 | 400, .. }) => {}
            Err(e) => return Err(e),
        }
        let mut found = self.list(&[("name", name_or_id)]).await?;
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(Error::NotFound { kind: Kind::Image, name: name_or_id.to_owned() }),
            count => Err(Error::Ambiguous { kind: Kind::Image, name: name_or_id.to_owned(), count }),
        }
    }
}

/// One page of images and where the next one starts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page {
    pub images: Vec<Image>,
    pub next_marker: Option<String>,
}

/// The `marker` of a `next` link (`/v2/images?marker=…&limit=…`).
fn marker_of(next: &str) -> Option<String> {
    let url = reqwest::Url::parse("http://glance").ok()?.join(next).ok()?;
    let m = url.query_pairs().find(|(k, _)| k == "marker").map(|(_, v)| v.into_owned());
    m
}

fn truncated(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect()
}

/// At most this many pages of an image list (200 images each).
const MAX_PAGES: usize = 1000;

/// `/v2/images/{id}{tail}` with `id` percent-encoded as one path segment, so that an id such
/// as `../info/import` or `x?y` cannot reach another Glance path.
pub fn image_path(id: &str, tail: &str) -> Result<String> {
    Ok(format!("/v2/images/{}{tail}", segment(id).map_err(|_| Error::Invalid(format!("{id:?} is not an image id")))?))
}

/// One URL path segment (an image id, a project id, a tag), percent-encoded. `.` and `..` are
/// refused (URL parsers read even `%2e%2e` as a step up).
pub fn segment(s: &str) -> Result<String> {
    const NOT_UNRESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~').remove(b'.');
    if s.is_empty() || s == "." || s == ".." {
        return Err(Error::Invalid(format!("{s:?} cannot be one part of a URL path")));
    }
    Ok(percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_image_id_is_one_path_segment() {
        assert_eq!(image_path("94ab1ef3-b9b4", "/file").unwrap(), "/v2/images/94ab1ef3-b9b4/file");
        assert_eq!(image_path("../info/import", "").unwrap(), "/v2/images/..%2Finfo%2Fimport");
        assert_eq!(image_path("x?marker=y#z", "").unwrap(), "/v2/images/x%3Fmarker%3Dy%23z");
        assert_eq!(image_path("%2e%2e", "").unwrap(), "/v2/images/%252e%252e");
        for bad in ["", ".", ".."] {
            assert!(image_path(bad, "").is_err(), "{bad:?}");
        }
        let base = reqwest::Url::parse("http://g:9292/image").unwrap();
        let u = crate::openstack::http::join(&base, &image_path("../../v3", "").unwrap());
        assert_eq!(u.path(), "/image/v2/images/..%2F..%2Fv3");
    }

    use super::*;

    #[test]
    fn file_path_falls_back_to_the_standard_one() {
        let img = Image::from_value(json!({"id": "x", "status": "queued"}), "-").unwrap();
        assert_eq!(img.file_path(), "/v2/images/x/file");
    }
}
