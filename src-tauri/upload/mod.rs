//! The upload engine: create the image, stream the file into it while hashing, verify what
//! Glance stored, record the checksums on it — and on any failure or cancel, delete the image
//! it created (unless asked to keep it). Cleanup lives here and nowhere else.

pub mod import;
pub mod local;
pub mod progress;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use crate::openstack::error::{Cleanup, Error, Result};
use crate::openstack::http::is_transient;
use crate::openstack::image::{Image, ImageStatus};
use crate::openstack::retry::{poll_until, retry, Backoff, Polled, RetryPolicy};
use crate::openstack::session::Session;
pub use progress::{Phase, Progress, ProgressFn, RateMeter, WarnFn};
pub use stream::Digests;

/// What to create: the fields of `openstack image create`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ImageSpec {
    pub name: String,
    pub id: Option<String>,
    pub disk_format: String,
    pub container_format: String,
    /// public, private, shared or community; Glance's default (shared) when `None`.
    pub visibility: Option<String>,
    pub min_disk: Option<u64>,
    pub min_ram: Option<u64>,
    pub protected: Option<bool>,
    pub tags: Vec<String>,
    pub properties: Vec<(String, String)>,
    /// Project id that will own the image (admin only).
    pub owner: Option<String>,
}

impl ImageSpec {
    /// The `POST /v2/images` body.
    pub fn create_body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("disk_format".into(), json!(self.disk_format));
        m.insert("container_format".into(), json!(self.container_format));
        let opt = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        opt(&mut m, "id", self.id.as_ref().map(|v| json!(v)));
        opt(&mut m, "visibility", self.visibility.as_ref().map(|v| json!(v)));
        opt(&mut m, "min_disk", self.min_disk.map(|v| json!(v)));
        opt(&mut m, "min_ram", self.min_ram.map(|v| json!(v)));
        opt(&mut m, "protected", self.protected.map(|v| json!(v)));
        opt(&mut m, "owner", self.owner.as_ref().map(|v| json!(v)));
        if !self.tags.is_empty() {
            m.insert("tags".into(), json!(self.tags));
        }
        for (k, v) in &self.properties {
            m.insert(k.clone(), json!(v));
        }
        m
    }
}

#[derive(Clone)]
pub struct UploadOptions {
    /// Leave the image behind when the upload fails (for debugging).
    pub keep_on_failure: bool,
    pub cancel: CancellationToken,
    pub progress: Option<ProgressFn>,
    /// How long to wait for `active` after the bytes are in.
    pub activation_timeout: Duration,
    /// Declare `raw` for data of another format (Glance accepts raw for anything).
    pub force: bool,
    /// Fail (and retry) a PUT when the server accepts no byte for this long.
    pub stall_timeout: Duration,
    /// Upload through Glance's glance-direct import (stage, then import into `stores`)
    /// instead of `PUT …/file`.
    pub import: Option<import::Import>,
    /// Told about risks worth a person's attention (a token that may not last the upload).
    pub on_warning: Option<WarnFn>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            keep_on_failure: false,
            cancel: CancellationToken::new(),
            progress: None,
            activation_timeout: Duration::from_secs(600),
            force: false,
            stall_timeout: Duration::from_secs(60),
            import: None,
            on_warning: None,
        }
    }
}

/// A finished, verified upload.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    #[serde(skip)]
    pub image: Image,
    pub digests: Digests,
    /// The `os_hash_algo` whose value was checked (`None`: Glance used one we do not compute).
    pub verified_os_hash: Option<String>,
    pub upload_secs: f64,
    pub total_secs: f64,
}

/// What the app's page is told about one upload, in order: progress events, then exactly one
/// of `done`, `failed` or `cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UploadEvent {
    Progress(Progress),
    Done {
        image_id: String,
        name: String,
        status: String,
        size: u64,
        md5: String,
        sha256: String,
        sha512: String,
        /// The `os_hash_algo` whose `os_hash_value` was verified.
        verified_os_hash: Option<String>,
    },
    Failed {
        message: String,
    },
    Cancelled {
        message: String,
    },
    /// Not final: something the person should know while the upload goes on.
    Warning {
        message: String,
    },
}

impl UploadEvent {
    /// The final event for an upload's result.
    pub fn outcome(r: &Result<Uploaded>) -> UploadEvent {
        match r {
            Ok(u) => UploadEvent::Done {
                image_id: u.image.id().to_owned(),
                name: u.image.name().unwrap_or_default().to_owned(),
                status: u.image.status().to_string(),
                size: u.digests.bytes,
                md5: u.digests.md5.clone(),
                sha256: u.digests.sha256.clone(),
                sha512: u.digests.sha512.clone(),
                verified_os_hash: u.verified_os_hash.clone(),
            },
            Err(e) if e.is_cancelled() => UploadEvent::Cancelled { message: e.to_string() },
            Err(e) => UploadEvent::Failed { message: e.to_string() },
        }
    }
}

/// An opened, checked local file.
pub struct LocalFile {
    pub path: PathBuf,
    pub file: std::fs::File,
    pub len: u64,
}

/// Open `path` for upload, refusing what cannot be an image, before anything is created.
pub fn open_file(path: &Path) -> Result<LocalFile> {
    let fail = |detail: String| Error::File { path: path.display().to_string(), detail };
    let meta = std::fs::metadata(path).map_err(|e| fail(io_words(&e)))?;
    if meta.is_dir() {
        return Err(fail("it is a directory, not an image file".into()));
    }
    if !meta.is_file() {
        return Err(fail("it is not a regular file".into()));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(io_words(&e)))?;
    if meta.len() == 0 {
        return Err(fail("the file is empty".into()));
    }
    Ok(LocalFile { path: path.to_owned(), file, len: meta.len() })
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (cannot read it)".into(),
        _ => e.to_string(),
    }
}

#[derive(Clone)]
struct Reporter {
    f: Option<ProgressFn>,
    total: u64,
    image_id: Option<String>,
}

impl Reporter {
    fn phase(&self, phase: Phase, sent: u64) {
        if let Some(f) = &self.f {
            f(&Progress {
                phase,
                image_id: self.image_id.clone(),
                sent,
                total: self.total,
                rate: 0.0,
                eta_secs: None,
                server_status: None,
            });
        }
    }

    /// Glance's own status while it finishes the image.
    fn server(&self, status: &str) {
        if let Some(f) = &self.f {
            let (sent, total) = (self.total, self.total);
            f(&Progress {
                phase: Phase::Verifying,
                image_id: self.image_id.clone(),
                sent,
                total,
                rate: 0.0,
                eta_secs: None,
                server_status: Some(status.to_owned()),
            });
        }
    }
}

/// Read the file's headers and settle the disk format before anything is created: an empty
/// `disk_format` becomes the detected one; a declared one must match the data (see
/// [`crate::inspect::check_declared`]); anything Glance would refuse stops here.
pub fn prepare(spec: &mut ImageSpec, path: &Path, force: bool) -> Result<crate::inspect::Inspection> {
    open_and_prepare(spec, path, force).map(|(found, _)| found)
}

/// [`prepare`], keeping the opened file for the upload. Blocking file I/O: call it off the
/// async runtime.
fn open_and_prepare(spec: &mut ImageSpec, path: &Path, force: bool) -> Result<(crate::inspect::Inspection, LocalFile)> {
    let local = open_file(path)?;
    let mut src = crate::inspect::FileSource::from_file(local.file, local.len);
    let found = crate::inspect::inspect(&mut src)
        .map_err(|e| Error::File { path: path.display().to_string(), detail: io_words(&e) })?;
    let local = LocalFile { file: src.into_file(), ..local };
    let mut reasons = found.refusals.clone();
    if spec.disk_format.is_empty() {
        spec.disk_format = found.format.clone();
    } else if spec.container_format == "bare" || spec.container_format.is_empty() {
        if let Err(why) = crate::inspect::check_declared(&found.format, &spec.disk_format, force) {
            reasons.push(why);
        }
    }
    if reasons.is_empty() {
        Ok((found, local))
    } else {
        Err(Error::Refused { path: path.display().to_string(), reasons })
    }
}

/// Create an image from `spec` and upload `path` into it: `openstack image create --file`.
pub async fn create_and_upload(
    session: &Session,
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
) -> Result<Uploaded> {
    let started = Instant::now();
    // The file is opened and its headers read once, on the blocking pool; the first attempt
    // streams from that same handle, a retry opens it again.
    let (mut spec, owned, force) = (spec.clone(), path.to_owned(), opts.force);
    let (spec, local) =
        tokio::task::spawn_blocking(move || open_and_prepare(&mut spec, &owned, force).map(|(_, local)| (spec, local)))
            .await
            .map_err(|e| Error::File {
                path: path.display().to_string(),
                detail: format!("reading its headers failed: {e}"),
            })??;
    let (spec, len) = (&spec, local.len);
    let first = std::sync::Mutex::new(Some(local));
    let rep = Reporter { f: opts.progress.clone(), total: len, image_id: None };
    rep.phase(Phase::Connecting, 0);
    cancellable(&opts.cancel, session.image_service()).await?;
    if let Some(i) = &opts.import {
        if i.method != import::ImportMethod::GlanceDirect {
            return Err(Error::Config(format!("{} does not upload a local file", i.method.name())));
        }
        import::check_offered(session, i).await?;
    }
    // Each attempt creates its own image and removes it on failure, so a retry never lands
    // bytes in an image Glance may have half-filled.
    let retryable = |e: &Error| match e {
        Error::Upload { cause, cleanup: Cleanup::Deleted, .. } => {
            spec.id.is_none() && !opts.cancel.is_cancelled() && retryable_upload(cause)
        }
        _ => false,
    };
    let file = || match first.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(local) => Ok(local),
        None => open_file(path),
    };
    retry(RetryPolicy::UPLOADS, "upload", |_| attempt(session, spec, file(), opts, &rep, started), retryable).await
}

/// One upload attempt: a new image, the bytes, the checks; on failure the image is removed
/// (unless kept) and the error says what became of it. A 401 gets a new token here, so that
/// the next attempt starts with one.
async fn attempt(
    session: &Session,
    spec: &ImageSpec,
    local: Result<LocalFile>,
    opts: &UploadOptions,
    rep: &Reporter,
    started: Instant,
) -> Result<Uploaded> {
    let local = local?;
    let rep = Reporter { image_id: None, ..rep.clone() };
    rep.phase(Phase::Creating, 0);
    // Not cancellable midway: a dropped POST could still create an image we would not know of.
    let image = create_image(session, spec).await?;
    let rep = Reporter { image_id: Some(image.id().to_owned()), ..rep };
    let id = image.id().to_owned();
    let cause = match upload_into(session, &image, local, spec, opts, &rep, started).await {
        Ok(done) => return Ok(done),
        Err(cause) => cause,
    };
    let cleanup = if opts.keep_on_failure {
        Cleanup::Kept
    } else {
        rep.phase(Phase::CleaningUp, 0);
        remove(session, &id).await
    };
    if cause.status() == Some(401) && cleanup == Cleanup::Deleted {
        session.reauthenticate().await?;
    }
    Err(Error::Upload { cause: Box::new(cause), image_id: id, cleanup })
}

/// Delete an image the upload made. Glance may still be busy with the aborted upload (it can
/// answer 409 or 500 for a moment), so this tries for a few seconds before giving up.
async fn remove(session: &Session, id: &str) -> Cleanup {
    let busy = |e: &Error| matches!(e.status(), Some(409) | Some(500..=599)) || is_transient(e);
    let images = session.images();
    match retry(RetryPolicy::CLEANUP, "delete the image", |_| images.delete(id), busy).await {
        Ok(()) | Err(Error::Api { status: 404, .. }) => Cleanup::Deleted,
        Err(e) => Cleanup::DeleteFailed(e.to_string()),
    }
}

/// Faults that a fresh attempt may get past. Glance's 4xx verdicts (400, 403, 409, 413, 415)
/// and a checksum mismatch are final.
fn retryable_upload(e: &Error) -> bool {
    match e {
        Error::Stalled { .. } => true,
        Error::Api { status, .. } => *status == 401 || *status >= 500,
        e => is_transient(e),
    }
}

/// `POST /v2/images` with an id chosen here, so that a POST whose answer was lost can be
/// checked (`GET` that id) instead of being sent again blindly, which could create a twin.
/// A repeated POST with the same id can only be refused (409), and then that GET tells.
async fn create_image(session: &Session, spec: &ImageSpec) -> Result<Image> {
    let images = session.images();
    let mut body = spec.create_body();
    let id = spec.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    body.insert("id".into(), json!(id));
    let (images, body, id) = (&images, &body, id.as_str());
    let once = |tries: u32| async move {
        match images.create(body).await {
            Ok(img) => Ok(img),
            Err(e) if is_transient(&e) || (tries > 0 && e.status() == Some(409)) => images.get(id).await.map_err(|_| e),
            Err(e) => Err(e),
        }
    };
    retry(RetryPolicy::REQUESTS, "create the image", once, is_transient).await
}

async fn cancellable<T>(cancel: &CancellationToken, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Cancelled),
        r = f => r,
    }
}

/// Everything after the image exists. Any error returned here makes the caller clean up.
async fn upload_into(
    session: &Session,
    image: &Image,
    local: LocalFile,
    spec: &ImageSpec,
    opts: &UploadOptions,
    rep: &Reporter,
    started: Instant,
) -> Result<Uploaded> {
    let images = session.images();
    let len = local.len;
    let path_str = local.path.display().to_string();
    let body = stream::file_body(local.file, len);
    let sent = body.sent.clone();
    // The token must outlive the PUT: at a pessimistic 10 MiB/s, get a new one now if not.
    if token_warning(len, session.token().await?.remaining_at(time::OffsetDateTime::now_utc())).is_some() {
        let fresh = session.reauthenticate().await?;
        if let (Some(msg), Some(warn)) =
            (token_warning(len, fresh.remaining_at(time::OffsetDateTime::now_utc())), &opts.on_warning)
        {
            warn(&msg);
        }
    }
    rep.phase(Phase::Uploading, 0);
    let put_started = Instant::now();

    // Progress ticks from a counter, so the data path never waits on the UI.
    let ticker = rep.f.clone().map(|f| {
        let sent = sent.clone();
        let image_id = rep.image_id.clone();
        tokio::spawn(async move {
            let mut meter = RateMeter::new(Duration::from_secs(3));
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let now = sent.load(Ordering::Relaxed);
                let rate = meter.record(Instant::now(), now);
                f(&Progress {
                    phase: Phase::Uploading,
                    image_id: image_id.clone(),
                    sent: now,
                    total: len,
                    rate,
                    eta_secs: progress::eta(len.saturating_sub(now), rate),
                    server_status: None,
                });
            }
        })
    });
    // A stalled server (no byte accepted for `stall_timeout` while bytes remain) fails the PUT,
    // so that it can be retried; a slow but moving upload is never cut off.
    let stalled = CancellationToken::new();
    let watchdog = {
        let (sent, stalled, limit) = (sent.clone(), stalled.clone(), opts.stall_timeout);
        tokio::spawn(async move {
            let (mut last, mut since) = (u64::MAX, Instant::now());
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = sent.load(Ordering::Relaxed);
                if now != last || now >= len {
                    (last, since) = (now, Instant::now());
                } else if since.elapsed() >= limit {
                    stalled.cancel();
                    return;
                }
            }
        })
    };
    let put = tokio::select! {
        biased;
        _ = opts.cancel.cancelled() => Err(Error::Cancelled),
        _ = stalled.cancelled() => Err(Error::Stalled { secs: opts.stall_timeout.as_secs() }),
        r = async {
            match &opts.import {
                Some(_) => images.stage(image, body.body, len).await,
                None => images.upload(image, body.body, len).await,
            }
        } => r,
    };
    watchdog.abort();
    if let Some(t) = ticker {
        t.abort();
    }
    let upload_secs = put_started.elapsed().as_secs_f64();
    // A read failure is the real cause of a failed PUT; report it rather than the broken body.
    let digests = match tokio::time::timeout(Duration::from_secs(10), body.digests)
        .await
        .unwrap_or(Ok(Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader did not stop"))))
    {
        Ok(Ok(d)) => Some(d),
        Ok(Err(e)) if put.is_err() && !opts.cancel.is_cancelled() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Error::File { path: path_str, detail: format!("reading failed during the upload: {e}") });
        }
        _ => None,
    };
    put?;
    let digests = digests.ok_or_else(|| Error::File {
        path: path_str.clone(),
        detail: "the file could not be read to the end".into(),
    })?;
    rep.phase(Phase::Verifying, len);

    let image = match &opts.import {
        Some(i) => {
            images.import(image.id(), i.body()).await?;
            cancellable(
                &opts.cancel,
                import::wait_import(session, image.id(), opts.activation_timeout, i, &|st| rep.server(st)),
            )
            .await?
        }
        None => {
            cancellable(&opts.cancel, wait_active(session, image.id(), opts.activation_timeout, &|st| rep.server(st)))
                .await?
        }
    };
    let verified_os_hash = verify(&image, &digests)?;
    let object = format!("images/{}", spec.name);
    let image = images
        .set_properties(
            image.id(),
            &[
                ("owner_specified.openstack.md5", digests.md5.clone()),
                ("owner_specified.openstack.sha256", digests.sha256.clone()),
                ("owner_specified.openstack.object", object),
            ],
        )
        .await?;
    rep.phase(Phase::Active, len);
    Ok(Uploaded { image, digests, verified_os_hash, upload_secs, total_secs: started.elapsed().as_secs_f64() })
}

/// A warning when an upload of `len` bytes, at a pessimistic 10 MiB/s plus a minute, may
/// outlast a token with `lasts` left: Glance then needs a Keystone trust to save the data.
pub fn token_warning(len: u64, lasts: Duration) -> Option<String> {
    let estimate = Duration::from_secs(len / (10 << 20)) + Duration::from_secs(60);
    (lasts < estimate).then(|| {
        format!(
            "at 10 MiB/s this upload takes about {} min, longer than a token lasts ({} min): Glance then needs a Keystone trust to save the data, which restricted application credentials cannot create",
            estimate.as_secs().div_ceil(60),
            lasts.as_secs() / 60
        )
    })
}

/// Poll until `active`; fail on `killed`, `deleted` or a fall back to `queued` (Glance's sign
/// that it dropped the data).
async fn wait_active(
    session: &Session,
    id: &str,
    timeout: Duration,
    on_status: &(dyn Fn(&str) + Sync),
) -> Result<Image> {
    let look = || async {
        let image = session.images().get(id).await?;
        on_status(image.status().as_str());
        match image.status() {
            ImageStatus::Active => Ok(Polled::Ready(image)),
            busy if busy.is_busy() => Ok(Polled::Pending(busy.to_string())),
            other => Err(Error::Verification {
                image_id: id.into(),
                detail: format!("Glance put it in status '{other}' instead of 'active' after the upload"),
            }),
        }
    };
    let timed_out = |status: String| Error::Verification {
        image_id: id.into(),
        detail: format!("still '{status}' after {} s", timeout.as_secs()),
    };
    poll_until(Backoff::DEFAULT, timeout, look, timed_out).await
}

/// Compare what Glance stored with what we sent: size, md5 `checksum`, and `os_hash_value`
/// for its `os_hash_algo`. Returns the algorithm verified.
pub fn verify(image: &Image, d: &Digests) -> Result<Option<String>> {
    let fail = |detail: String| Err(Error::Verification { image_id: image.id().into(), detail });
    if image.size() != Some(d.bytes) {
        return fail(format!("Glance stored {:?} bytes, we sent {}", image.size(), d.bytes));
    }
    match image.checksum.as_deref() {
        Some(c) if c == d.md5 => {}
        Some(c) => return fail(format!("md5 checksum {c} differs from ours {}", d.md5)),
        None => return fail("Glance recorded no checksum".into()),
    }
    let algo = image.os_hash_algo.clone().unwrap_or_default();
    let value = image.os_hash_value.as_deref().unwrap_or_default();
    if algo.is_empty() {
        return Ok(None);
    }
    match d.for_algo(&algo) {
        Some(ours) if ours == value => Ok(Some(algo)),
        Some(ours) => fail(format!("{algo} {value} differs from ours {ours}")),
        None => {
            tracing::warn!("Glance hashes with {algo}, which stackdrop does not compute; md5 and size were verified");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_a_tag() {
        let p = Progress {
            phase: Phase::Uploading,
            image_id: Some("i".into()),
            sent: 1,
            total: 2,
            rate: 0.5,
            eta_secs: Some(2.0),
            server_status: None,
        };
        assert_eq!(
            serde_json::to_value(UploadEvent::Progress(p)).unwrap(),
            json!({"event": "progress", "phase": "uploading", "image_id": "i", "sent": 1, "total": 2, "rate": 0.5, "eta_secs": 2.0})
        );
        let cancelled =
            Err(Error::Upload { cause: Box::new(Error::Cancelled), image_id: "i".into(), cleanup: Cleanup::Deleted });
        assert_eq!(
            serde_json::to_value(UploadEvent::outcome(&cancelled)).unwrap(),
            json!({"event": "cancelled", "message": "cancelled; image i was deleted"})
        );
    }

    #[test]
    fn a_token_that_may_not_last_the_upload_is_flagged() {
        let hour = Duration::from_secs(3600);
        assert_eq!(token_warning(1 << 30, hour), None);
        let w = token_warning(40 << 30, hour).unwrap();
        assert!(w.starts_with("at 10 MiB/s this upload takes about 70 min, longer than a token lasts (60 min)"), "{w}");
        assert!(token_warning(1 << 20, Duration::from_secs(30)).is_some());
    }

    #[test]
    fn create_body_has_only_what_was_given() {
        let spec = ImageSpec {
            name: "cirros".into(),
            disk_format: "qcow2".into(),
            container_format: "bare".into(),
            visibility: Some("public".into()),
            tags: vec!["a".into()],
            properties: vec![("os_distro".into(), "cirros".into())],
            ..Default::default()
        };
        let want = json!({"name": "cirros", "disk_format": "qcow2", "container_format": "bare",
            "visibility": "public", "tags": ["a"], "os_distro": "cirros"});
        assert_eq!(Value::Object(spec.create_body()), want);
    }

    fn image(mut v: Value) -> Image {
        v["status"] = json!("active");
        Image::from_value(v, "-").unwrap()
    }

    fn digests() -> Digests {
        let mut h = stream::Hasher::default();
        h.update(b"abc");
        h.finish()
    }

    #[test]
    fn verify_checks_size_md5_and_os_hash() {
        let d = digests();
        let good =
            json!({"id": "i", "size": 3, "checksum": d.md5, "os_hash_algo": "sha512", "os_hash_value": d.sha512});
        assert_eq!(verify(&image(good.clone()), &d).unwrap().as_deref(), Some("sha512"));
        let mut bad = good.clone();
        bad["os_hash_value"] = json!("00");
        assert!(verify(&image(bad), &d).unwrap_err().to_string().contains("sha512 00 differs"));
        let mut bad = good.clone();
        bad["checksum"] = json!("ff");
        assert!(verify(&image(bad), &d).unwrap_err().to_string().contains("md5 checksum ff"));
        let mut bad = good;
        bad["size"] = json!(4);
        assert!(verify(&image(bad), &d).is_err());
    }

    #[test]
    fn unreadable_and_odd_files_are_refused_before_anything() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_file(dir.path()).err().unwrap().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = open_file(&dir.path().join("missing.qcow2")).err().unwrap().to_string();
        assert!(e.contains("no such file"), "{e}");
        let empty = dir.path().join("empty.img");
        std::fs::write(&empty, b"").unwrap();
        assert!(open_file(&empty).err().unwrap().to_string().contains("empty"));
    }
}
