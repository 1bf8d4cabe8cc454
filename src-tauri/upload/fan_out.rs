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

/// Upload `path` to every target at once; one result per target, in their order.
pub async fn create_and_upload_to_many(
    targets: &[Target<'_>],
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
    all_or_nothing: bool,
) -> Vec<Result<Uploaded>> {
    let mut results = shared_pass(targets, spec, path, opts).await;
    // A passing fault on one target: that one again, alone (a fresh image, the file read anew).
    for (t, r) in targets.iter().zip(results.iter_mut()) {
        let again = matches!(r, Err(Error::Failed { cause, cleanup: Cleanup::Deleted, .. })
            if spec.id.is_none() && !opts.cancel.is_cancelled() && retryable_upload(cause));
        if again {
            tracing::info!(
                "{}: {}; trying it again on its own",
                t.label,
                r.as_ref().err().map(ToString::to_string).unwrap_or_default()
            );
            let opts = UploadOptions { progress: t.progress.clone(), ..opts.clone() };
            *r = create_and_upload(t.session, spec, path, &opts).await;
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

/// Every target from one read of the file.
async fn shared_pass(
    targets: &[Target<'_>],
    spec: &ImageSpec,
    path: &Path,
    opts: &UploadOptions,
) -> Vec<Result<Uploaded>> {
    let started = Instant::now();
    if opts.import.is_some() {
        return targets
            .iter()
            .map(|_| Err(Error::Invalid("glance-direct (--import) sends to one cloud at a time".into())))
            .collect();
    }
    let (spec, local) = match open_prepared(spec, path, opts).await {
        Ok(x) => x,
        Err(e) => return targets.iter().map(|_| Err(same(&e))).collect(),
    };
    let (spec, len, modified) = (&spec, local.len, local.modified);
    let path_str = local.path.display().to_string();
    let watch = match local.file.try_clone() {
        Ok(w) => w,
        Err(e) => {
            return targets.iter().map(|_| Err(Error::File { path: path_str.clone(), detail: e.to_string() })).collect()
        }
    };

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

    // One read for every image made; each PUT takes its own lane.
    let live: Vec<usize> = (0..targets.len()).filter(|&i| made[i].is_ok()).collect();
    let (bodies, digests) = stream::fan_out_bodies(local.file, len, live.len());
    let puts: Vec<Result<f64>> = join_all(live.iter().zip(bodies).map(|(&i, b)| {
        let (image, rep) = made[i].as_ref().expect("made");
        send(targets[i].session, image, b.body, b.sent, len, opts, rep)
    }))
    .await;
    let read = reader_outcome(puts.iter().all(Result::is_err), digests, opts, &path_str).await;
    let changed = LocalFile::changed_since_open(&watch, len, modified);

    // Then each on its own: verified, or cleaned up. The PUTs are in the order of the images
    // made, so each made image takes the next one.
    let mut puts = puts.into_iter();
    join_all(targets.iter().zip(made).map(|(t, made)| {
        let put = made.is_ok().then(|| puts.next()).flatten();
        let (read, path_str) = (&read, &path_str);
        async move {
            let (image, rep) = made?;
            let outcome = async {
                let upload_secs = put.expect("a PUT for each image made")?;
                let digests = match read {
                    Ok(Some(d)) => d,
                    Ok(None) => {
                        return Err(Error::File {
                            path: path_str.clone(),
                            detail: "the file could not be read to the end".into(),
                        })
                    }
                    Err(e) => return Err(same(e)),
                };
                if changed {
                    return Err(Error::File { path: path_str.clone(), detail: CHANGED.into() });
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

/// An error that befell every target, once for each (errors are not `Clone`: what each
/// front end shows of it is kept).
fn same(e: &Error) -> Error {
    match e {
        Error::File { path, detail } => Error::File { path: path.clone(), detail: detail.clone() },
        Error::Refused { path, reasons } => Error::Refused { path: path.clone(), reasons: reasons.clone() },
        Error::Cancelled => Error::Cancelled,
        e => Error::Invalid(e.to_string()),
    }
}
