//! The one HTTP client every call goes through: TLS settings, timeouts, `Accept: application/json`,
//! and the mapping of transport failures and error statuses to [`Error`].

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};

use super::error::{clean_message, Error, Result, Service};
use super::retry::{retry, RetryPolicy};

/// TLS and network settings of a cloud (clouds.yaml `cacert`, `cert`, `key`, `verify`).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A PEM bundle of CA certificates to trust in addition to the system's.
    pub cacert: Option<std::path::PathBuf>,
    /// A PEM client certificate, and its key when it is in another file.
    pub cert: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    /// `verify: false` / `--insecure`: accept any server certificate.
    pub insecure: bool,
}

/// Timeouts. There is deliberately no total-time limit: a slow upload that keeps moving must
/// not be killed. `idle` bounds how long a single read may wait.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(15), idle: Duration::from_secs(300) }
    }
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

pub const USER_AGENT: &str = concat!("stackdrop/", env!("CARGO_PKG_VERSION"));

impl Http {
    pub fn new(tls: &TlsOptions, timeouts: Timeouts) -> Result<Http> {
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(redirect_policy())
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.idle)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(path) = &tls.cacert {
            let pem = read_file(path)?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::CertFile {
                path: path.display().to_string(),
                detail: format!("not a PEM certificate bundle ({e})"),
            })?;
            if certs.is_empty() {
                return Err(Error::CertFile {
                    path: path.display().to_string(),
                    detail: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
                });
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let Some(cert) = &tls.cert {
            let mut pem = read_file(cert)?;
            if let Some(key) = &tls.key {
                pem.push(b'\n');
                pem.extend(read_file(key)?);
            }
            let id = reqwest::Identity::from_pem(&pem).map_err(|e| Error::CertFile {
                path: cert.display().to_string(),
                detail: format!("not a PEM client certificate with its key ({e})"),
            })?;
            b = b.identity(id);
        }
        if tls.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        let client = b.build().map_err(|e| Error::Invalid(format!("cannot set up HTTP: {e}")))?;
        Ok(Http { client })
    }

    /// A request that asks for JSON (so Glance's errors come back as JSON, not HTML).
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url).header(reqwest::header::ACCEPT, "application/json")
    }

    /// Send, and turn transport failures and non-2xx/3xx statuses into [`Error`]s. GET, HEAD
    /// and DELETE are sent again after a connection fault or a 502/503/504, as
    /// [`RetryPolicy::REQUESTS`] says; other methods are sent once.
    pub async fn send(&self, service: Service, req: RequestBuilder) -> Result<Response> {
        self.send_inner(service, req, None).await
    }

    /// Like [`send`](Self::send), and repeatable although not a GET (Keystone's
    /// `POST /auth/tokens`, which creates nothing that a repeat would duplicate).
    pub async fn send_repeatable(&self, service: Service, req: RequestBuilder) -> Result<Response> {
        self.send_inner(service, req, Some(true)).await
    }

    async fn send_inner(&self, service: Service, req: RequestBuilder, repeatable: Option<bool>) -> Result<Response> {
        let req = req.build().map_err(|e| Error::Invalid(format!("cannot build the request: {e}")))?;
        let (method, url) = (req.method().to_string(), redact_url(req.url()));
        let repeatable = repeatable.unwrap_or(matches!(*req.method(), Method::GET | Method::HEAD | Method::DELETE));
        // A streamed body cannot be sent twice: such a request, like any POST, gets one try.
        if !repeatable || req.try_clone().is_none() {
            return self.execute(service, req, &method, &url).await;
        }
        let what = format!("{method} {url}");
        let again = || self.execute(service, req.try_clone().expect("cloned above"), &method, &url);
        retry(RetryPolicy::REQUESTS, &what, |_| again(), is_transient).await
    }

    async fn execute(&self, service: Service, req: reqwest::Request, method: &str, url: &str) -> Result<Response> {
        let started = std::time::Instant::now();
        let result = self.client.execute(req).await;
        // `--debug`: each request's method, URL (without any userinfo), status and time; never
        // a header or a body.
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(resp) => tracing::debug!("{method} {url} -> {} in {ms} ms", resp.status().as_u16()),
            Err(_) => tracing::debug!("{method} {url} -> failed after {ms} ms"),
        }
        match result {
            Ok(resp) if resp.status().is_success() || resp.status().as_u16() == 300 => Ok(resp),
            Ok(resp) => {
                let status = resp.status().as_u16();
                // An error page is read only so far: the message is in its first bytes.
                let body = read_capped(resp, MAX_ERROR_BODY).await.map(|b| b.bytes).unwrap_or_default();
                let body = String::from_utf8_lossy(&body);
                Err(Error::Api {
                    service,
                    method: method.to_owned(),
                    url: url.to_owned(),
                    status,
                    message: clean_message(&body),
                })
            }
            Err(e) => Err(transport_error(url, &e)),
        }
    }

    /// Send and decode a JSON body.
    pub async fn json(&self, service: Service, req: RequestBuilder) -> Result<serde_json::Value> {
        let resp = self.send(service, req).await?;
        let url = redact_url(resp.url());
        read_json(&url, resp).await
    }
}

/// Redirects are followed only within the origin (scheme, host and port) the request went
/// to, at most 10 hops: a token header or a credential body must never reach another server
/// because one answered 3xx (reqwest drops `Authorization` on a cross-host redirect, but not
/// `X-Auth-Token`, and a 307/308 sends a POST body again). Another origin is refused with
/// [`Error::Redirect`], naming both addresses.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        match first {
            Some(from) if !same_origin(&from, attempt.url()) => {
                let refused = CrossOrigin { from: redact_url(&from), to: redact_url(attempt.url()) };
                attempt.error(refused)
            }
            _ if attempt.previous().len() > 10 => attempt.stop(),
            _ => attempt.follow(),
        }
    })
}

/// Same scheme, host and port (a default port counts as given).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.origin() == b.origin()
}

/// The redirect the policy refused, carried through reqwest's error to [`transport_error`].
#[derive(Debug)]
struct CrossOrigin {
    from: String,
    to: String,
}

impl std::fmt::Display for CrossOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect from {} to {} refused", self.from, self.to)
    }
}

impl std::error::Error for CrossOrigin {}

/// A fault that may pass: the connection broke or timed out, or the server is overloaded
/// (502/503/504). A refused connection is retried too: a restarting service refuses for a moment.
pub fn is_transient(e: &Error) -> bool {
    match e {
        Error::Connection { .. } | Error::Timeout { .. } | Error::Unreachable { .. } => true,
        Error::Api { status, .. } => matches!(status, 502..=504),
        _ => false,
    }
}

/// The most a JSON reply may hold (a big cloud's catalog or a page of 200 images is well under
/// 1 MiB): a server that sends more is refused, not held in memory.
pub const MAX_JSON_BODY: usize = 16 << 20;

/// How much of an error reply is read for its message.
const MAX_ERROR_BODY: usize = 64 << 10;

struct Capped {
    bytes: Vec<u8>,
    /// More followed than the cap (not read).
    cut: bool,
}

/// Read a reply's body, at most `cap` bytes of it.
async fn read_capped(mut resp: Response, cap: usize) -> std::result::Result<Capped, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if bytes.len() + chunk.len() > cap {
            bytes.extend_from_slice(&chunk[..cap - bytes.len()]);
            return Ok(Capped { bytes, cut: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped { bytes, cut: false })
}

pub async fn read_json(url: &str, resp: Response) -> Result<serde_json::Value> {
    if resp.content_length().is_some_and(|n| n > MAX_JSON_BODY as u64) {
        return Err(too_big(url));
    }
    let body = read_capped(resp, MAX_JSON_BODY).await.map_err(|e| transport_error(url, &e))?;
    if body.cut {
        return Err(too_big(url));
    }
    let bytes = body.bytes;
    serde_json::from_slice(&bytes).map_err(|e| Error::BadResponse {
        url: url.to_owned(),
        detail: format!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])),
    })
}

fn too_big(url: &str) -> Error {
    Error::BadResponse { url: url.to_owned(), detail: format!("the reply is larger than {} MiB", MAX_JSON_BODY >> 20) }
}

/// URLs never carry secrets in this client, but user:password@host could come from a config.
fn redact_url(u: &reqwest::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

/// Map a reqwest failure to what a person can act on.
pub fn transport_error(url: &str, e: &reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<CrossOrigin>() {
            return Error::Redirect { from: r.from.clone(), to: r.to.clone() };
        }
        source = err.source();
    }
    let chain = error_chain(e);
    let url = url.to_owned();
    if e.is_timeout() && e.is_connect() {
        return Error::Unreachable {
            url,
            detail:
                "no answer while connecting (to the TCP or TLS handshake): check the host, the port and http vs https"
                    .into(),
        };
    }
    if e.is_timeout() {
        return Error::Timeout { url };
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return Error::Tls { url, detail: chain };
    }
    if e.is_connect() {
        return Error::Unreachable { url, detail: chain };
    }
    Error::Connection { url, detail: chain }
}

/// "error sending request: client error (Connect): tcp connect error: Connection refused" ->
/// the deepest, most specific part, without the URL reqwest repeats.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        let s = s.split(" for url (").next().unwrap_or(&s).to_owned();
        if !parts.iter().any(|p: &String| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    // The innermost message is the specific one ("Connection refused (os error 111)").
    parts.last().cloned().unwrap_or_default()
}

/// A CA bundle, client certificate or key: a settings file like the others (regular, capped).
fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    crate::safe_fs::read_capped(path, crate::safe_fs::MAX_SETTINGS_FILE)
        .map_err(|e| Error::CertFile { path: path.display().to_string(), detail: e.to_string() })
}

/// Join a path onto a base URL, keeping the base's own path prefix (`http://h/image` + `/v2/x`
/// = `http://h/image/v2/x`). `Url::join` would drop the prefix for an absolute path.
/// A query string in `path` (`/v2/images?marker=…`, as in Glance's `next` links) is kept.
pub fn join(base: &reqwest::Url, path: &str) -> reqwest::Url {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut u = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let rest = path.trim_start_matches('/');
    u.set_path(&format!("{prefix}/{rest}"));
    u.set_query(query);
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_endpoint_prefix() {
        let base = reqwest::Url::parse("http://10.0.0.1/image").unwrap();
        assert_eq!(join(&base, "/v2/images/x/file").as_str(), "http://10.0.0.1/image/v2/images/x/file");
        let base = reqwest::Url::parse("http://10.0.0.1:9292/").unwrap();
        assert_eq!(join(&base, "v2/images").as_str(), "http://10.0.0.1:9292/v2/images");
        assert_eq!(
            join(&base, "/v2/images?marker=a&limit=2").as_str(),
            "http://10.0.0.1:9292/v2/images?marker=a&limit=2"
        );
    }

    #[test]
    fn only_same_origin_redirects_are_followed() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(same_origin(&u("https://k.example/v3/auth/tokens"), &u("https://k.example:443/identity/v3")));
        assert!(!same_origin(&u("https://k.example/v3"), &u("http://k.example/v3")), "https to http");
        assert!(!same_origin(&u("http://k.example:5000/v3"), &u("http://k.example:5001/v3")), "another port");
        assert!(!same_origin(&u("http://k.example/v3"), &u("http://evil.example/v3")), "another host");
    }

    #[test]
    fn transient_faults() {
        let api = |status| Error::Api {
            service: Service::Image,
            method: "GET".into(),
            url: String::new(),
            status,
            message: String::new(),
        };
        assert!(is_transient(&api(503)) && is_transient(&api(502)));
        assert!(!is_transient(&api(404)) && !is_transient(&api(409)));
        assert!(is_transient(&Error::Timeout { url: String::new() }));
    }

    #[test]
    fn redacts_userinfo() {
        let u = reqwest::Url::parse("https://bob:hunter2@cloud.example/v3").unwrap();
        assert_eq!(redact_url(&u), "https://cloud.example/v3");
    }
}
