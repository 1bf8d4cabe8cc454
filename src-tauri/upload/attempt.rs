//! One upload, attempt by attempt: create the image, stream the file into it while hashing,
//! verify, record the checksums; on failure remove the image (unless asked to keep it) and,
//! for a passing fault, try again into a new image. Cleanup lives here and nowhere else.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::error::{Cleanup, Error, Result};
use crate::openstack::http::is_transient;
use crate::openstack::image::Image;
use crate::openstack::retry::{retry, RetryPolicy};
use crate::openstack::session::Session;

use super::file::{open_and_prepare, open_file, LocalFile};
use super::verify::{verify, wait_active};
use crate::openstack::image::import;

use super::{progress, stream, ImageSpec, Phase, Progress, ProgressFn, RateMeter, UploadOptions, Uploaded};

#[derive(Clone)]
pub(super) struct Reporter {
    pub(super) f: Option<ProgressFn>,
    pub(super) total: u64,
    pub(super) image_id: Option<String>,
}

impl Reporter {
    pub(super) fn phase(&self, phase: Phase, sent: u64) {
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

pub(super) const CHANGED: &str =
    "it changed while it was being uploaded (its size or modification time); upload it again once it is final";

/// Create an image from `spec` and upload `path` into it: `openstack image create --file`.
pub async fn create_and_upload(
    session: &Session,
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
) -> Result<Uploaded> {
    if opts.convert.is_some() {
        // Converted on the way: the fan-out's reader, to one target.
        let one = [super::Target { label: String::new(), session, progress: opts.progress.clone() }];
        let many = super::send_to_many(&one, spec, super::Source::File(path), opts, false);
        return Box::pin(many).await.pop().expect("one result for one target");
    }
    let started = Instant::now();
    // The file is opened and its headers read once, on the blocking pool; the first attempt
    // streams from that same handle, a retry opens it again.
    let (spec, local) = open_prepared(spec, path, opts).await?;
    let (spec, len, modified) = (&spec, local.len, local.modified);
    let first = std::sync::Mutex::new(Some(local));
    let rep = Reporter { f: opts.progress.clone(), total: len, image_id: None };
    rep.phase(Phase::Connecting, 0);
    cancellable(&opts.cancel, session.image_service()).await?;
    if let Some(i) = &opts.import {
        if i.method != import::ImportMethod::GlanceDirect {
            return Err(Error::Invalid(format!("{} does not upload a local file", i.method.name())));
        }
        import::check_offered(session, i).await?;
    }
    // Each attempt creates its own image and removes it on failure, so a retry never lands
    // bytes in an image Glance may have half-filled.
    let retryable = |e: &Error| match e {
        Error::Failed { cause, cleanup: Cleanup::Deleted, .. } => {
            spec.id.is_none() && !opts.cancel.is_cancelled() && retryable_upload(cause)
        }
        _ => false,
    };
    // A retry uploads the file that was inspected, or nothing: one rewritten meanwhile (its
    // size or modification time differ) may no longer be what its headers said.
    let file = || match first.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(local) => Ok(local),
        None => open_file(path).and_then(|again| {
            if again.len == len && again.modified == modified {
                Ok(again)
            } else {
                Err(Error::File { path: path.display().to_string(), detail: CHANGED.into() })
            }
        }),
    };
    retry(RetryPolicy::UPLOADS, "upload", |_| attempt(session, spec, file(), opts, &rep, started), retryable).await
}

/// The file opened and its headers read (once, on the blocking pool), `spec` completed from
/// them (disk format, checks).
pub(super) async fn open_prepared(
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
) -> Result<(ImageSpec, LocalFile)> {
    let (mut spec, owned, force) = (spec.clone(), path.to_owned(), opts.force);
    tokio::task::spawn_blocking(move || open_and_prepare(&mut spec, &owned, force).map(|(_, local)| (spec, local)))
        .await
        .map_err(|e| Error::File {
            path: path.display().to_string(),
            detail: format!("reading its headers failed: {e}"),
        })?
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
    match upload_into(session, &image, local, spec, opts, &rep, started).await {
        Ok(done) => Ok(done),
        Err(cause) => Err(clean_up(session, &id, cause, opts, &rep).await?),
    }
}

/// The upload into image `id` failed with `cause`: remove the image (unless kept) and say what
/// became of it. A 401 gets a new token here, so that a next attempt starts with one.
pub(super) async fn clean_up(
    session: &Session,
    id: &str,
    cause: Error,
    opts: &UploadOptions,
    rep: &Reporter,
) -> Result<Error> {
    let cleanup = if opts.keep_on_failure {
        Cleanup::Kept
    } else {
        rep.phase(Phase::CleaningUp, 0);
        session.images().remove_made(id).await
    };
    if cause.status() == Some(401) && cleanup == Cleanup::Deleted {
        session.reauthenticate().await?;
    }
    Ok(Error::Failed { cause: Box::new(cause), image_id: id.to_owned(), cleanup })
}

/// Faults that a fresh attempt may get past. Glance's 4xx verdicts (400, 403, 409, 413, 415)
/// and a checksum mismatch are final.
pub(super) fn retryable_upload(e: &Error) -> bool {
    match e {
        Error::Stalled { .. } => true,
        Error::Protocol(crate::openstack::Error::Api { status, .. }) => *status == 401 || *status >= 500,
        Error::Protocol(e) => is_transient(e),
        _ => false,
    }
}

/// `POST /v2/images` with an id chosen here, so that a POST whose answer was lost can be
/// checked (`GET` that id) instead of being sent again blindly, which could create a twin.
/// A repeated POST with the same id can only be refused (409), and then that GET tells.
pub(super) async fn create_image(session: &Session, spec: &ImageSpec) -> Result<Image> {
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
    match retry(RetryPolicy::REQUESTS, "create the image", once, is_transient).await {
        Ok(img) => Ok(img),
        // The id is our own, fresh: if any POST reached Glance (its answer lost, a 5xx, a 409
        // for our own earlier POST), the image it made is ours and nobody else knows of it.
        // Remove it, so that a failed create leaves no image. (A 4xx verdict made none.)
        Err(e) if spec.id.is_none() && !matches!(e.status(), Some(400..=408 | 410..=499)) => {
            let cleanup = images.remove_made(id).await;
            tracing::debug!("create failed ({e}); image {id}: {cleanup}");
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `f`, unless cancelled first.
pub(super) async fn cancellable<T, E: Into<Error>>(
    cancel: &CancellationToken,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Cancelled),
        r = f => r.map_err(Into::into),
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
    let len = local.len;
    let path_str = local.path.display().to_string();
    // A second handle on the same open file, to see afterwards whether it changed meanwhile.
    let watch = local.file.try_clone().map_err(|e| Error::File { path: path_str.clone(), detail: e.to_string() })?;
    let body = stream::file_body(local.file, len);
    ensure_token_lasts(session, len, opts).await?;
    let put = send(session, image, body.body, body.sent, len, opts, rep).await;
    let digests = reader_outcome(put.is_err(), body.digests, opts, &path_str).await?;
    let upload_secs = put?;
    let digests = digests.ok_or_else(|| Error::File {
        path: path_str.clone(),
        detail: "the file could not be read to the end".into(),
    })?;
    // Rewritten while it streamed (same size or not): what Glance holds may be half old, half
    // new, though its checksums match what was sent. Not trusted, so not kept.
    if LocalFile::changed_since_open(&watch, len, local.modified) {
        return Err(Error::File { path: path_str, detail: CHANGED.into() });
    }
    rep.phase(Phase::Verifying, len);
    let (image, verified_os_hash) = finish(session, image, &digests, spec, opts, rep).await?;
    rep.phase(Phase::Active, len);
    Ok(Uploaded { image, digests, verified_os_hash, upload_secs, total_secs: started.elapsed().as_secs_f64() })
}

/// The PUT (or glance-direct's stage) of `body` into `image`, `sent` counting what the HTTP
/// stack took; returns how long it took.
pub(super) async fn send(
    session: &Session,
    image: &Image,
    body: reqwest::Body,
    sent: Arc<AtomicU64>,
    len: u64,
    opts: &UploadOptions,
    rep: &Reporter,
) -> Result<f64> {
    let images = session.images();
    rep.phase(Phase::Uploading, 0);
    let put_started = Instant::now();
    // Progress ticks from a counter, so the data path never waits on the UI; a stalled
    // server (no byte accepted for `stall_timeout` while bytes remain) fails the PUT so that
    // it can be retried, while a slow but moving upload is never cut off. Both stop when the
    // PUT ends (or this future is dropped).
    let ticking = rep.f.clone().map(|f| ticker(f, sent.clone(), rep.image_id.clone(), len));
    let (stalled, watching) = watchdog(sent.clone(), len, opts.stall_timeout);
    let put = tokio::select! {
        biased;
        _ = opts.cancel.cancelled() => Err(Error::Cancelled),
        _ = stalled.cancelled() => Err(Error::Stalled { secs: opts.stall_timeout.as_secs() }),
        r = async {
            match &opts.import {
                Some(_) => images.stage(image, body, len).await,
                None => images.upload(image, body, len).await,
            }
        } => r.map_err(Error::from),
    };
    drop((ticking, watching));
    put.map(|()| put_started.elapsed().as_secs_f64())
}

/// What the reader said once the bytes went: the digests (`None`: it did not get to the end).
/// A read failure is the real cause of a failed PUT, and is reported rather than the broken
/// body.
pub(super) async fn reader_outcome(
    put_failed: bool,
    digests: tokio::sync::oneshot::Receiver<std::io::Result<stream::Digests>>,
    opts: &UploadOptions,
    path: &str,
) -> Result<Option<stream::Digests>> {
    match tokio::time::timeout(Duration::from_secs(10), digests)
        .await
        .unwrap_or(Ok(Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader did not stop"))))
    {
        Ok(Ok(d)) => Ok(Some(d)),
        Ok(Err(e)) if put_failed && !opts.cancel.is_cancelled() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::File { path: path.to_owned(), detail: format!("reading failed during the upload: {e}") })
        }
        _ => Ok(None),
    }
}

/// The bytes are in: wait for Glance to finish (the import, or `active`), check what it
/// stored, and record our checksums on the image as openstacksdk does.
pub(super) async fn finish(
    session: &Session,
    image: &Image,
    digests: &stream::Digests,
    spec: &ImageSpec,
    opts: &UploadOptions,
    rep: &Reporter,
) -> Result<(Image, Option<String>)> {
    let images = session.images();
    let (id, timeout, on_status) = (image.id(), opts.activation_timeout, &|st: &str| rep.server(st));
    let image = match &opts.import {
        Some(i) => {
            images.import(id, i.body()).await?;
            cancellable(&opts.cancel, import::wait_import(session, id, timeout, i, on_status)).await?
        }
        None => cancellable(&opts.cancel, wait_active(session, id, timeout, on_status)).await?,
    };
    let verified_os_hash = verify(&image, digests)?;
    let recorded = [
        ("owner_specified.openstack.md5", digests.md5.clone()),
        ("owner_specified.openstack.sha256", digests.sha256.clone()),
        ("owner_specified.openstack.object", format!("images/{}", spec.name)),
    ];
    // Protection last, once verified: a protected image would refuse a cleanup DELETE.
    Ok((images.set_properties(image.id(), &recorded, spec.finishing_ops()).await?, verified_os_hash))
}

/// The token must outlive the PUT: at a pessimistic 10 MiB/s, get a new one now if not, and
/// warn when even a fresh one may not last.
pub(super) async fn ensure_token_lasts(session: &Session, len: u64, opts: &UploadOptions) -> Result<()> {
    let now = time::OffsetDateTime::now_utc;
    if token_warning(len, session.token().await?.remaining_at(now())).is_some() {
        let fresh = session.reauthenticate().await?;
        if let (Some(msg), Some(warn)) = (token_warning(len, fresh.remaining_at(now())), &opts.on_warning) {
            warn(&msg);
        }
    }
    Ok(())
}

/// A task that is aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Report the bytes sent every 100 ms, with the rate over the last 3 s and the time left.
fn ticker(f: ProgressFn, sent: Arc<AtomicU64>, image_id: Option<String>, len: u64) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
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
    }))
}

/// Cancel the returned token when no byte has been accepted for `limit` while bytes remain.
fn watchdog(sent: Arc<AtomicU64>, len: u64, limit: Duration) -> (CancellationToken, AbortOnDrop) {
    let stalled = CancellationToken::new();
    let signal = stalled.clone();
    let task = tokio::spawn(async move {
        let (mut last, mut since) = (u64::MAX, Instant::now());
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = sent.load(Ordering::Relaxed);
            if now != last || now >= len {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() >= limit {
                signal.cancel();
                return;
            }
        }
    });
    (stalled, AbortOnDrop(task))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_that_may_not_last_the_upload_is_flagged() {
        let hour = Duration::from_secs(3600);
        assert_eq!(token_warning(1 << 30, hour), None);
        let w = token_warning(40 << 30, hour).unwrap();
        assert!(w.starts_with("at 10 MiB/s this upload takes about 70 min, longer than a token lasts (60 min)"), "{w}");
        assert!(token_warning(1 << 20, Duration::from_secs(30)).is_some());
    }
}
