//! A session with one cloud: its settings, one HTTP client, and what may be cached between
//! calls — the discovered identity URL, the token (reused until 120 s remain), the image
//! endpoint and its discovery. A second upload in the same process costs only the image calls.

use hmac::{Hmac, Mac};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::catalog::Interface;
use super::error::{Error, Result};
use super::http::{Http, Timeouts, TlsOptions};
use super::identity::{self, Credentials, Token};
use super::image::discovery::{self as image_discovery, unversioned, ImageApiVersion};
use super::image::Images;
use super::secret::Secret;

/// Everything needed to reach one cloud. Built by `config` from clouds.yaml / `OS_*`.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub name: String,
    pub auth_url: Url,
    pub credentials: Credentials,
    pub interface: Interface,
    pub region: Option<String>,
    /// Skip the catalog and use this image endpoint.
    pub image_endpoint_override: Option<Url>,
    pub tls: TlsOptions,
    pub timeouts: Timeouts,
}

/// A reason the person should know that their secrets are less protected than they think.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireWarning {
    /// The password, secret or token goes over plain http to a host that is not this machine.
    Plaintext { url: String },
    /// TLS certificates are not checked (`verify: false`, `--insecure`).
    Unverified,
}

impl std::fmt::Display for WireWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireWarning::Plaintext { url } => {
                write!(f, "{url} is plain http: the password or token travels unencrypted to another machine")
            }
            WireWarning::Unverified => {
                f.write_str("TLS certificates are not checked (verify: false / --insecure): anyone on the way can pose as the cloud")
            }
        }
    }
}

impl Cloud {
    /// What about this cloud's settings puts its secrets at risk on the wire.
    pub fn wire_warnings(&self) -> Vec<WireWarning> {
        let mut out = Vec::new();
        let remote_http = |u: &Url| {
            let loopback = u.host_str().is_none_or(|h| {
                h.eq_ignore_ascii_case("localhost")
                    || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
            });
            u.scheme() == "http" && !loopback
        };
        for u in std::iter::once(&self.auth_url).chain(self.image_endpoint_override.as_ref()) {
            if remote_http(u) {
                let mut shown = u.clone();
                let _ = shown.set_password(None);
                let _ = shown.set_username("");
                out.push(WireWarning::Plaintext { url: shown.to_string() });
            }
        }
        if self.tls.insecure {
            out.push(WireWarning::Unverified);
        }
        out
    }
}

/// The image service as discovered.
#[derive(Debug, Clone)]
pub struct ImageService {
    /// Unversioned root, with its path prefix (`http://h/image`); `/v2/...` is joined onto it.
    pub root: Url,
    pub version: ImageApiVersion,
}

/// Somewhere the token (with the discovered URLs) can outlive the process, so the next run
/// skips discovery and authentication: the OS keyring, for Stackdrop's profiles. The blob is
/// a secret (it holds the token). The calls may block (D-Bus): the session makes them on
/// tokio's blocking pool, never while it holds its token lock.
pub trait TokenStore: Send + Sync {
    fn load(&self) -> Option<Secret>;
    fn save(&self, blob: &Secret);
    fn clear(&self);
    /// A random key, made once and kept beside the token, that keys the blob's fingerprint
    /// (an HMAC): the fingerprint covers the secret, and unkeyed it would let anyone holding
    /// the blob test password guesses offline. `None` (no key can be kept): no token is kept.
    fn fingerprint_key(&self) -> Option<Secret>;
}

/// A new fingerprint key: 32 bytes from the OS's random source, as hex.
pub fn new_fingerprint_key() -> Option<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    let key = Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect());
    zeroize::Zeroize::zeroize(&mut bytes);
    Some(key)
}

pub struct Session {
    cloud: Cloud,
    http: Http,
    identity_url: OnceCell<Url>,
    token: Mutex<Option<Token>>,
    image: OnceCell<ImageService>,
    store: Option<Arc<dyn TokenStore>>,
    /// The stored token was looked at (once per session; others wait for that look).
    restored: OnceCell<()>,
}

impl Session {
    pub fn new(cloud: Cloud) -> Result<Session> {
        let http = Http::new(&cloud.tls, cloud.timeouts)?;
        Ok(Session {
            cloud,
            http,
            identity_url: OnceCell::new(),
            token: Mutex::new(None),
            image: OnceCell::new(),
            store: None,
            restored: OnceCell::new(),
        })
    }

    /// Keep the token in `store` between runs.
    pub fn with_token_store(mut self, store: Box<dyn TokenStore>) -> Session {
        self.store = Some(Arc::from(store));
        self
    }

    /// What a stored token must have been issued for: the identity settings, the secret and
    /// the endpoint choice, as an HMAC-SHA256 under the store's random `key` (see
    /// [`TokenStore::fingerprint_key`]). A changed password or project never reuses a token.
    fn fingerprint(&self, key: &Secret) -> String {
        let c = &self.cloud;
        let body = Secret::new(identity::request_body(&c.credentials).to_string());
        let mut h = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes a key of any length");
        for part in [
            c.auth_url.as_str(),
            body.expose(),
            &c.interface.to_string(),
            c.region.as_deref().unwrap_or("-"),
            c.image_endpoint_override.as_ref().map(Url::as_str).unwrap_or("-"),
        ] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        format!("{:x}", h.finalize().into_bytes())
    }

    /// Run a store call on the blocking pool.
    async fn with_store<T: Send + 'static>(&self, f: impl FnOnce(&dyn TokenStore) -> T + Send + 'static) -> Option<T> {
        let store = self.store.clone()?;
        tokio::task::spawn_blocking(move || f(store.as_ref())).await.ok()
    }

    async fn save_to_store(&self, token: &Token, image: Option<&ImageService>) {
        let (Some(_), Some(identity)) = (&self.store, self.identity_url.get()) else { return };
        let Some(key) = self.with_store(|s| s.fingerprint_key()).await.flatten() else {
            tracing::debug!("token not kept: no fingerprint key");
            return;
        };
        let kept = KeptToken {
            v: KeptToken::VERSION,
            fingerprint: self.fingerprint(&key),
            identity_url: identity.to_string(),
            token: token.value.expose().to_owned(),
            body: json!({"token": {
                "expires_at": token.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "catalog": token.catalog.to_json(&["image"]),
                "project": {"id": token.project_id, "name": token.project_name},
                "user": {"id": token.user_id, "name": token.user_name},
            }}),
            image: image.map(|i| KeptImage { root: i.root.to_string(), version: i.version.id.clone() }),
        };
        match serde_json::to_string(&kept) {
            Ok(text) => drop(self.with_store(move |s| s.save(&Secret::new(text))).await),
            Err(e) => tracing::debug!("token not kept: {e}"),
        }
    }

    /// Take the stored token if it was issued for these settings and is fresh.
    async fn load_from_store(&self) -> Option<Token> {
        let text = self.with_store(|s| s.load()).await??;
        let kept: KeptToken = serde_json::from_str(text.expose()).ok()?;
        if kept.v != KeptToken::VERSION {
            return None;
        }
        let key = self.with_store(|s| s.fingerprint_key()).await??;
        if kept.fingerprint != self.fingerprint(&key) {
            return None;
        }
        let token = Token::from_response(Secret::new(kept.token), &kept.body).ok()?;
        if !token.is_fresh() {
            return None;
        }
        let _ = self.identity_url.set(Url::parse(&kept.identity_url).ok()?);
        if let Some(KeptImage { root, version }) = kept.image {
            if let Ok(root) = Url::parse(&root) {
                let _ = self.image.set(ImageService { root, version: ImageApiVersion { id: version } });
            }
        }
        tracing::debug!("reusing the stored token for cloud {}, expires {}", self.cloud.name, token.expires_at);
        Some(token)
    }

    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Take what the token store holds, once, before anything is discovered.
    async fn restore(&self) {
        self.restored
            .get_or_init(|| async {
                if let Some(kept) = self.load_from_store().await {
                    self.token.lock().await.get_or_insert(kept);
                }
            })
            .await;
    }

    /// The Keystone v3 base URL (discovered once).
    pub async fn identity_url(&self) -> Result<Url> {
        self.restore().await;
        self.identity_url.get_or_try_init(|| identity::discover_v3(&self.http, &self.cloud.auth_url)).await.cloned()
    }

    /// A token with more than two minutes left: the cached one, or a new one.
    pub async fn token(&self) -> Result<Token> {
        self.restore().await;
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.is_fresh()) {
            return Ok(t.clone());
        }
        let v3 = self.identity_url().await?;
        let t = identity::authenticate(&self.http, &v3, &self.cloud.credentials).await?;
        tracing::debug!("new token for cloud {}, expires {}", self.cloud.name, t.expires_at);
        *slot = Some(t.clone());
        drop(slot);
        self.save_to_store(&t, self.image.get()).await;
        Ok(t)
    }

    /// Drop the cached token and get a new one (after a 401, or before a long upload).
    pub async fn reauthenticate(&self) -> Result<Token> {
        self.restore().await;
        *self.token.lock().await = None;
        self.with_store(|s| s.clear()).await;
        self.token().await
    }

    /// The image service: the override, or the catalog entry; discovered once.
    pub async fn image_service(&self) -> Result<ImageService> {
        self.restore().await;
        self.image
            .get_or_try_init(|| async {
                let endpoint = match &self.cloud.image_endpoint_override {
                    Some(u) => u.clone(),
                    None => {
                        let token = self.token().await?;
                        let raw =
                            token.catalog.endpoint("image", self.cloud.interface, self.cloud.region.as_deref())?;
                        Url::parse(&raw).map_err(|e| Error::BadResponse {
                            url: self.cloud.auth_url.to_string(),
                            detail: format!("the catalog's image endpoint {raw:?} is not a URL ({e})"),
                        })?
                    }
                };
                let root = unversioned(&endpoint);
                let version = image_discovery::discover(&self.http, &root).await?;
                let service = ImageService { root, version };
                let token = self.token.lock().await.clone();
                if let Some(t) = token {
                    self.save_to_store(&t, Some(&service)).await;
                }
                Ok(service)
            })
            .await
            .cloned()
    }

    pub fn images(&self) -> Images<'_> {
        Images::new(self)
    }
}

/// What the keyring keeps of a profile's last login, so that the next run skips discovery and
/// authentication. `v` changes when the shape does; an entry of another version is ignored
/// (a new login replaces it). Holds the token in clear: no `Debug`.
#[derive(Serialize, Deserialize)]
struct KeptToken {
    v: u32,
    /// Which settings the token was issued for (see `Session::fingerprint`).
    fingerprint: String,
    identity_url: String,
    token: String,
    /// Keystone's token body, trimmed to the image part of the catalog.
    body: Value,
    image: Option<KeptImage>,
}

#[derive(Serialize, Deserialize)]
struct KeptImage {
    root: String,
    version: String,
}

impl KeptToken {
    /// 2: the fingerprint is keyed (v1's was a plain SHA-256, and is not trusted).
    const VERSION: u32 = 2;
}
