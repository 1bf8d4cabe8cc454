//! Glance's interoperable import: glance-direct (stage, then import), web-download (Glance
//! fetches a URL) and copy-image (an active image into more stores). Only what the cloud
//! offers (`/v2/info/import`, `/v2/info/stores`) is attempted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::openstack::error::{Cleanup, Error, Result};
use crate::openstack::retry::{poll_until, Backoff, Polled};
use crate::openstack::session::Session;

use super::{Image, ImageSpec, ImageStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum ImportMethod {
    GlanceDirect,
    WebDownload { uri: String },
    CopyImage,
}

impl ImportMethod {
    pub fn name(&self) -> &'static str {
        match self {
            ImportMethod::GlanceDirect => "glance-direct",
            ImportMethod::WebDownload { .. } => "web-download",
            ImportMethod::CopyImage => "copy-image",
        }
    }
}

/// How to import, and into which stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub method: ImportMethod,
    /// Target stores (empty: the default store, or all with `all_stores`).
    #[serde(default)]
    pub stores: Vec<String>,
    #[serde(default)]
    pub all_stores: bool,
    /// Accept the result when some stores fail (`all_stores_must_succeed: false`).
    #[serde(default)]
    pub allow_failure: bool,
}

impl Import {
    /// The `POST …/import` body.
    pub fn body(&self) -> Value {
        let mut method = json!({ "name": self.method.name() });
        if let ImportMethod::WebDownload { uri } = &self.method {
            method["uri"] = json!(uri);
        }
        let mut b = json!({ "method": method });
        if !self.stores.is_empty() {
            b["stores"] = json!(self.stores);
        }
        if self.all_stores {
            b["all_stores"] = json!(true);
        }
        if self.allow_failure {
            b["all_stores_must_succeed"] = json!(false);
        }
        b
    }
}

/// Refuse, before anything is created, a method or store this cloud does not offer, and a
/// web-download address that is not http(s) (Glance would fetch `file:` or other schemes
/// only if misconfigured, and such a request is never what the person meant).
pub async fn check_offered(session: &Session, import: &Import) -> Result<()> {
    if let ImportMethod::WebDownload { uri } = &import.method {
        let scheme = reqwest::Url::parse(uri).map(|u| u.scheme().to_owned());
        if !matches!(scheme.as_deref(), Ok("http" | "https")) {
            return Err(Error::Invalid(format!("web-download needs an http:// or https:// address, not {uri:?}")));
        }
    }
    let images = session.images();
    let methods = images.import_methods().await?;
    if !methods.iter().any(|m| m == import.method.name()) {
        return Err(Error::Invalid(format!(
            "this cloud does not offer the {} import (it offers: {})",
            import.method.name(),
            if methods.is_empty() { "none".into() } else { methods.join(", ") }
        )));
    }
    if !import.stores.is_empty() {
        let stores = images.stores().await?;
        let unknown: Vec<&String> = import.stores.iter().filter(|s| !stores.contains(s)).collect();
        if !unknown.is_empty() {
            return Err(Error::Invalid(format!(
                "unknown store {} (this cloud has: {})",
                unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                if stores.is_empty() { "no store list".into() } else { stores.join(", ") }
            )));
        }
    }
    Ok(())
}

/// The stores an import must reach: those named, or every store with `all_stores`.
pub async fn targets(session: &Session, import: &Import) -> Result<Vec<String>> {
    if import.all_stores {
        session.images().stores().await
    } else {
        Ok(import.stores.clone())
    }
}

/// Follow an import until the image is `active`, no store is pending
/// (`os_glance_importing_to_stores`) and every target store holds it (`stores`); fail on
/// `os_glance_failed_import` unless allowed (then a failed store counts as done).
pub async fn wait_import(
    session: &Session,
    id: &str,
    timeout: Duration,
    import: &Import,
    on_status: &(dyn Fn(&str) + Sync),
) -> Result<Image> {
    let targets = &targets(session, import).await?;
    let started = Instant::now();
    // web-download starts from `queued`; back in `queued` after running means failure.
    let seen_running = &AtomicBool::new(false);
    let fail = |detail: String| Error::Import { image_id: id.into(), detail };
    let look = || async {
        let image = session.images().get(id).await?;
        on_status(image.status().as_str());
        let failed = image.other_list("os_glance_failed_import");
        let pending = image.other_list("os_glance_importing_to_stores");
        if !pending.is_empty() || image.status().is_busy() {
            seen_running.store(true, Ordering::Relaxed);
        }
        if !failed.is_empty() && !import.allow_failure {
            return Err(fail(format!(
                "the import into store(s) {} failed (os_glance_failed_import)",
                failed.join(", ")
            )));
        }
        let present = image.other_list("stores");
        let reached = targets.iter().all(|t| present.contains(t) || failed.contains(t));
        match image.status() {
            ImageStatus::Active if pending.is_empty() && reached => return Ok(Polled::Ready(image)),
            ImageStatus::Killed | ImageStatus::Deleted | ImageStatus::Deactivated => {
                return Err(fail(format!("Glance put it in status '{}'", image.status())))
            }
            ImageStatus::Queued
                if seen_running.load(Ordering::Relaxed)
                    || !failed.is_empty()
                    || started.elapsed() > Duration::from_secs(120) =>
            {
                return Err(fail(
                    "Glance gave up on the import (the image is back to 'queued'; see Glance's task log)".into(),
                ))
            }
            _ => {}
        }
        Ok(Polled::Pending((image.status().to_owned(), pending.join(", "))))
    };
    let timed_out = |(status, pending): (ImageStatus, String)| {
        fail(format!("the import is still '{status}' (pending stores: {pending}) after {} s", timeout.as_secs()))
    };
    poll_until(Backoff { first: Duration::from_millis(300), ..Backoff::DEFAULT }, timeout, look, timed_out).await
}

/// web-download: create the image and let Glance fetch `uri`; the image is removed when the
/// import fails or `cancel` fires (unless `keep_on_failure`).
pub async fn create_from_uri(
    session: &Session,
    spec: &ImageSpec,
    import: &Import,
    timeout: Duration,
    keep_on_failure: bool,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Image> {
    check_offered(session, import).await?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let mut spec = spec.clone();
    if spec.disk_format.is_empty() {
        return Err(Error::Invalid(
            "web-download needs --disk-format: Stackdrop cannot read a remote file's headers".into(),
        ));
    }
    spec.container_format = if spec.container_format.is_empty() { "bare".into() } else { spec.container_format };
    let images = session.images();
    let image = images.create(&spec.create_body()).await?;
    let id = image.id().to_owned();
    let work = async {
        images.import(&id, import.body()).await?;
        let image = wait_import(session, &id, timeout, import, &|_| {}).await?;
        match spec.finishing_ops() {
            ops if ops.is_empty() => Ok(image),
            ops => images.patch(&id, ops).await,
        }
    };
    let result = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Cancelled),
        r = work => r,
    };
    match result {
        Ok(img) => Ok(img),
        Err(cause) => {
            let cleanup = if keep_on_failure { Cleanup::Kept } else { session.images().remove_made(&id).await };
            Err(Error::Abandoned { cause: Box::new(cause), image_id: id, cleanup })
        }
    }
}

/// copy-image: copy an active image into more stores and wait until every copy is done.
pub async fn copy_image(session: &Session, id: &str, import: &Import, timeout: Duration) -> Result<Image> {
    check_offered(session, import).await?;
    session.images().import(id, import.body()).await?;
    wait_import(session, id, timeout, import, &|_| {}).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_bodies() {
        let i = Import {
            method: ImportMethod::WebDownload { uri: "http://h/x.qcow2".into() },
            stores: vec![],
            all_stores: false,
            allow_failure: false,
        };
        assert_eq!(i.body(), json!({"method": {"name": "web-download", "uri": "http://h/x.qcow2"}}));
        let i = Import {
            method: ImportMethod::CopyImage,
            stores: vec!["fs2".into()],
            all_stores: false,
            allow_failure: true,
        };
        assert_eq!(
            i.body(),
            json!({"method": {"name": "copy-image"}, "stores": ["fs2"], "all_stores_must_succeed": false})
        );
        let i = Import { method: ImportMethod::GlanceDirect, stores: vec![], all_stores: true, allow_failure: false };
        assert_eq!(i.body(), json!({"method": {"name": "glance-direct"}, "all_stores": true}));
    }
}
