//! One file to several clouds or regions at once. The file is opened, inspected, read and
//! hashed once; the same chunks stream to every target (the slowest sets the pace, and memory
//! stays bounded whatever the number of targets). Each target is otherwise a single upload:
//! its own image, its own verification against its own Glance (size, md5, its `os_hash_algo`),
//! the same `owner_specified.openstack.*`, and the same cleanup. A target that fails is
//! cleaned up and reported without stopping the others; one that failed on a passing fault
//! (a reset, a 5xx, a stall) is tried again on its own afterwards, which reads the file again.
//! With `all_or_nothing`, a target that failed in the end makes the others remove theirs.

use std::path::Path;
use std::time::Instant;

use futures_util::future::join_all;

use super::attempt::{
    cancellable, clean_up, create_and_upload, create_image, ensure_token_lasts, finish, open_prepared, reader_outcome,
    retryable_upload, send, Reporter, CHANGED,
};
use super::error::{Cleanup, Error, Result};
use super::file::LocalFile;
use super::{stream, ImageSpec, Phase, ProgressFn, UploadOptions, Uploaded};
use crate::openstack::image::Image;
use crate::openstack::session::Session;

/// Where one copy goes: a cloud (or one of its regions) and its own progress.
pub struct Target<'a> {
    /// How the person named it (`lab`, `lab:RegionTwo`): for progress lines and outcomes.
    pub label: String,
    pub session: &'a Session,
    pub progress: Option<ProgressFn>,
}

/// What the targets get: a local file, or an image in another cloud or region (`image copy`).
#[derive(Clone, Copy)]
pub enum Source<'a> {
    File(&'a Path),
    /// An active image, read from its Glance as it is sent on (no temporary file), and checked
    /// on the way against the size, md5 and `os_hash_value` that Glance recorded for it.
    Image {
        session: &'a Session,
        image: &'a Image,
    },
}

/// Upload `path` to every target at once; one result per target, in their order.
pub async fn create_and_upload_to_many(
    targets: &[Target<'_>],
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
    all_or_nothing: bool,
) -> Vec<Result<Uploaded>> {
    send_to_many(targets, spec, Source::File(path), opts, all_or_nothing).await
}

/// `source` to every target at once, each as an image made from `spec`; one result per
/// target, in their order.
pub async fn send_to_many(
    targets: &[Target<'_>],
    spec: &ImageSpec,
    source: Source<'_>,
    opts: &UploadOptions,
    all_or_nothing: bool,
) -> Vec<Result<Uploaded>> {
    let mut results = shared_pass(targets, spec, source, opts).await;
    // A passing fault on one target: that one again, alone (a fresh image, the source read anew).
    for (t, r) in targets.iter().zip(results.iter_mut()) {
        let again = matches!(r, Err(Error::Failed { cause, cleanup: Cleanup::Deleted, .. })
            if spec.id.is_none() && !opts.cancel.is_cancelled() && retryable_upload(cause));
        if again {
            tracing::info!(
                "{}: {}; trying it again on its own",
                t.label,
                r.as_ref().err().map(ToString::to_string).unwrap_or_default()
            );
            *r = match source {
                Source::File(path) if opts.convert.is_none() => {
                    let opts = UploadOptions { progress: t.progress.clone(), ..opts.clone() };
                    create_and_upload(t.session, spec, path, &opts).await
                }
                _ => {
                    let mut once = shared_pass(std::slice::from_ref(t), spec, source, opts).await;
                    once.pop().expect("one result for one target")
                }
            };
        }
    }
    if all_or_nothing && results.iter().any(Result::is_err) {
        for (t, r) in targets.iter().zip(results.iter_mut()) {
            if let Ok(u) = r {
                let id = u.image.id().to_owned();
                let cleanup = t.session.images().remove_made(&id).await;
                *r = Err(Error::Failed { cause: Box::new(Error::RolledBack), image_id: id, cleanup });
            }
        }
    }
    results
}

/// The source opened for one pass: what is created from it, how long it is, what reads it,
/// and how to tell afterwards whether a file changed meanwhile.
struct Opened {
    spec: ImageSpec,
    len: u64,
    /// How errors name it: the path, or `image ID`.
    name: String,
    reader: Box<dyn std::io::Read + Send>,
    changed: Box<dyn FnOnce() -> bool + Send>,
}

async fn open_source(spec: &ImageSpec, source: Source<'_>, opts: &UploadOptions) -> Result<Opened> {
    match source {
        Source::File(path) if opts.convert.is_some() => converted(spec, path, opts).await,
        Source::File(path) => {
            let (spec, local) = open_prepared(spec, path, opts).await?;
            let (name, changed) = watched(&local)?;
            let len = local.len;
            // From the start, whatever reads came before (Windows' positioned reads move the
            // cursor).
            let mut file = local.file;
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(|e| file_error(&name, e))?;
            Ok(Opened { spec, len, name, reader: Box::new(file), changed })
        }
        Source::Image { image, .. } => {
            if image.status != crate::openstack::image::ImageStatus::Active {
                return Err(Error::Invalid(format!(
                    "image {} is '{}': only an active image has data to copy",
                    image.id(),
                    image.status()
                )));
            }
            let len = image
                .size()
                .ok_or_else(|| Error::Invalid(format!("Glance recorded no size for image {}", image.id())))?;
            // Filled in by the pass, once the download starts.
            let reader = Box::new(std::io::empty());
            Ok(Opened {
                spec: spec.clone(),
                len,
                name: format!("image {}", image.id()),
                reader,
                changed: Box::new(|| false),
            })
        }
    }
}

/// A raw disk, turned into qcow2 as it is read: its data clusters found first (one read of its
/// allocated ranges), then the layout known, so that the length is.
async fn converted(spec: &ImageSpec, path: &Path, opts: &UploadOptions) -> Result<Opened> {
    // The data must be raw, whatever was declared for the result.
    let raw = ImageSpec { disk_format: String::new(), ..spec.clone() };
    let (mut spec, local) = open_prepared(&raw, path, opts).await?;
    let (name, changed) = watched(&local)?;
    if spec.disk_format != "raw" {
        return Err(Error::Refused {
            path: name,
            reasons: vec![format!(
                "it is {}, not a raw disk: only a raw disk is converted on the way",
                spec.disk_format
            )],
        });
    }
    let (len, file) = (local.len, local.file);
    let compress = opts.compress;
    let (plan, file) = tokio::task::spawn_blocking(move || {
        crate::convert::qcow2::Plan::scan_with(&file, len, compress).map(|p| (p, file))
    })
    .await
    .map_err(|e| Error::File { path: name.clone(), detail: e.to_string() })?
    .map_err(|e| file_error(&name, e))?;
    tracing::info!("{name}: {} of {} hold data; sending {} as qcow2", plan.data_bytes(), plan.virtual_size, plan.len());
    spec.disk_format = "qcow2".into();
    let len_sent = plan.len();
    let reader = Box::new(crate::convert::qcow2::Qcow2Reader::new(plan, file));
    Ok(Opened { spec, len: len_sent, name, reader, changed })
}

/// A local file's name for errors, and the check, asked afterwards of a second handle on the
/// same open file, whether it changed meanwhile (its size or modification time).
fn watched(local: &LocalFile) -> Result<(String, Box<dyn FnOnce() -> bool + Send>)> {
    let name = local.path.display().to_string();
    let watch = local.file.try_clone().map_err(|e| file_error(&name, e))?;
    let (len, modified) = (local.len, local.modified);
    Ok((name, Box::new(move || LocalFile::changed_since_open(&watch, len, modified))))
}

fn file_error(name: &str, e: std::io::Error) -> Error {
    Error::File { path: name.to_owned(), detail: e.to_string() }
}

/// Every target from one read of the source.
async fn shared_pass(
    targets: &[Target<'_>],
    spec: &ImageSpec,
    source: Source<'_>,
    opts: &UploadOptions,
) -> Vec<Result<Uploaded>> {
    let started = Instant::now();
    if opts.import.is_some() {
        return targets
            .iter()
            .map(|_| Err(Error::Invalid("glance-direct (--import) sends to one cloud at a time".into())))
            .collect();
    }
    let Opened { spec, len, name, reader, changed } = match open_source(spec, source, opts).await {
        Ok(x) => x,
        Err(e) => return targets.iter().map(|_| Err(same(&e))).collect(),
    };
    let spec = &spec;

    // Each target: its Glance, a token that will last, its image.
    let made: Vec<Result<(Image, Reporter)>> = join_all(targets.iter().map(|t| async move {
        let rep = Reporter { f: t.progress.clone(), total: len, image_id: None };
        rep.phase(Phase::Connecting, 0);
        cancellable(&opts.cancel, t.session.image_service()).await?;
        ensure_token_lasts(t.session, len, opts).await?;
        rep.phase(Phase::Creating, 0);
        // Not cancellable midway: a dropped POST could still create an image we would not know of.
        let image = create_image(t.session, spec).await?;
        let rep = Reporter { image_id: Some(image.id().to_owned()), ..rep };
        Ok((image, rep))
    }))
    .await;

    // One read for every image made; each PUT takes its own lane. An image source is
    // downloaded at the same time, at the pace the targets take it.
    let live: Vec<usize> = (0..targets.len()).filter(|&i| made[i].is_ok()).collect();
    let save = crate::download::SaveOptions { cancel: opts.cancel.clone(), ..Default::default() };
    let (reader, fetch): (Box<dyn std::io::Read + Send>, _) = match source {
        Source::Image { session, image } if !live.is_empty() => {
            let (fetch, data) = crate::download::data_stream(session, image, &save);
            (Box::new(data), Some(fetch))
        }
        _ => (reader, None),
    };
    let (bodies, digests) = stream::fan_out_reader(reader, len, live.len());
    let sending = join_all(live.iter().zip(bodies).map(|(&i, b)| {
        let (image, rep) = made[i].as_ref().expect("made");
        send(targets[i].session, image, b.body, b.sent, len, opts, rep)
    }));
    let (puts, fetched): (Vec<Result<f64>>, _) = match fetch {
        Some(fetch) => {
            let (puts, fetched) = futures_util::future::join(sending, fetch).await;
            (puts, Some(fetched))
        }
        None => (sending.await, None),
    };
    let mut read = reader_outcome(puts.iter().all(Result::is_err), digests, opts, &name).await;
    // For an image: the download's own failure is the cause, and what was read must be what
    // its Glance recorded.
    if let (Source::Image { image, .. }, Some(fetched)) = (source, fetched) {
        read = match (fetched, read) {
            (Err(e), _) => Err(e),
            (Ok(_), Ok(Some(d))) => match super::verify(image, &d) {
                Ok(_) => Ok(Some(d)),
                Err(e) => Err(Error::SourceCorrupt { image_id: image.id().to_owned(), detail: verification_detail(e) }),
            },
            (Ok(_), other) => other,
        };
    }
    let changed = changed();

    // Then each on its own: verified, or cleaned up. The PUTs are in the order of the images
    // made, so each made image takes the next one.
    let mut puts = puts.into_iter();
    join_all(targets.iter().zip(made).map(|(t, made)| {
        let put = made.is_ok().then(|| puts.next()).flatten();
        let (read, name) = (&read, &name);
        async move {
            let (image, rep) = made?;
            let outcome = async {
                let upload_secs = put.expect("a PUT for each image made")?;
                let digests = match read {
                    Ok(Some(d)) => d,
                    Ok(None) => {
                        return Err(Error::File {
                            path: name.clone(),
                            detail: "it could not be read to the end".into(),
                        })
                    }
                    Err(e) => return Err(same(e)),
                };
                if changed {
                    return Err(Error::File { path: name.clone(), detail: CHANGED.into() });
                }
                rep.phase(Phase::Verifying, len);
                let (image, verified_os_hash) = finish(t.session, &image, digests, spec, opts, &rep).await?;
                rep.phase(Phase::Active, len);
                Ok(Uploaded {
                    image,
                    digests: digests.clone(),
                    verified_os_hash,
                    upload_secs,
                    total_secs: started.elapsed().as_secs_f64(),
                })
            }
            .await;
            match outcome {
                Ok(u) => Ok(u),
                Err(cause) => Err(clean_up(t.session, image.id(), cause, opts, &rep).await?),
            }
        }
    }))
    .await
}

fn verification_detail(e: Error) -> String {
    match e {
        Error::Verification { detail, .. } => detail,
        e => e.to_string(),
    }
}

/// An error that befell every target, once for each (errors are not `Clone`: what each
/// front end shows of it is kept).
fn same(e: &Error) -> Error {
    match e {
        Error::File { path, detail } => Error::File { path: path.clone(), detail: detail.clone() },
        Error::Refused { path, reasons } => Error::Refused { path: path.clone(), reasons: reasons.clone() },
        Error::Cancelled => Error::Cancelled,
        Error::SourceCorrupt { image_id, detail } => {
            Error::SourceCorrupt { image_id: image_id.clone(), detail: detail.clone() }
        }
        e => Error::Invalid(e.to_string()),
    }
}
