//! A session with one cloud: its settings, one HTTP client, and what may be cached between
//! calls — the discovered identity URL, the token (reused until 120 s remain), the image
//! endpoint and its discovery. A second upload in the same process costs only the image calls.

use reqwest::Url;
use tokio::sync::{Mutex, OnceCell};

use super::catalog::Interface;
use super::error::{Error, Result};
use super::http::{Http, Timeouts, TlsOptions};
use super::identity::{self, Credentials, Token};
use super::image::discovery::{self as image_discovery, unversioned, ImageApiVersion};
use super::image::Images;

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

/// The image service as discovered.
#[derive(Debug, Clone)]
pub struct ImageService {
    /// Unversioned root, with its path prefix (`http://h/image`); `/v2/...` is joined onto it.
    pub root: Url,
    pub version: ImageApiVersion,
}

pub struct Session {
    cloud: Cloud,
    http: Http,
    identity_url: OnceCell<Url>,
    token: Mutex<Option<Token>>,
    image: OnceCell<ImageService>,
}

impl Session {
    pub fn new(cloud: Cloud) -> Result<Session> {
        let http = Http::new(&cloud.tls, cloud.timeouts)?;
        Ok(Session { cloud, http, identity_url: OnceCell::new(), token: Mutex::new(None), image: OnceCell::new() })
    }

    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The Keystone v3 base URL (discovered once).
    pub async fn identity_url(&self) -> Result<Url> {
        self.identity_url
            .get_or_try_init(|| identity::discover_v3(&self.http, &self.cloud.auth_url))
            .await
            .cloned()
    }

    /// A token with more than two minutes left: the cached one, or a new one.
    pub async fn token(&self) -> Result<Token> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.is_fresh()) {
            return Ok(t.clone());
        }
        let v3 = self.identity_url().await?;
        let t = identity::authenticate(&self.http, &v3, &self.cloud.credentials).await?;
        tracing::debug!("new token for cloud {}, expires {}", self.cloud.name, t.expires_at);
        *slot = Some(t.clone());
        Ok(t)
    }

    /// Drop the cached token and get a new one (after a 401, or before a long upload).
    pub async fn reauthenticate(&self) -> Result<Token> {
        *self.token.lock().await = None;
        self.token().await
    }

    /// The image service: the override, or the catalog entry; discovered once.
    pub async fn image_service(&self) -> Result<ImageService> {
        self.image
            .get_or_try_init(|| async {
                let endpoint = match &self.cloud.image_endpoint_override {
                    Some(u) => u.clone(),
                    None => {
                        let token = self.token().await?;
                        let raw = token.catalog.endpoint("image", self.cloud.interface, self.cloud.region.as_deref())?;
                        Url::parse(&raw).map_err(|e| Error::BadResponse {
                            url: self.cloud.auth_url.to_string(),
                            detail: format!("the catalog's image endpoint {raw:?} is not a URL ({e})"),
                        })?
                    }
                };
                let root = unversioned(&endpoint);
                let version = image_discovery::discover(&self.http, &root).await?;
                Ok(ImageService { root, version })
            })
            .await
            .cloned()
    }

    pub fn images(&self) -> Images<'_> {
        Images::new(self)
    }
}
