//! Uploads run on tokio tasks; their progress and outcome stream to the page on a Channel.

use std::sync::Arc;

use serde::Serialize;
use stackdrop::i18n::Localized;
use stackdrop::openstack::image::import::Import;
use stackdrop::upload::Error;
use stackdrop::upload::{
    copy_to_many, create_and_upload, create_and_upload_to_many, Copied, CopyOptions, ImageSpec, Phase, Progress,
    Target, UploadOptions, Uploaded,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use super::{shown, AppState, CmdResult};

/// Start uploading the offered file `handle` to `cloud`, and to every cloud in `also` at the
/// same time (the file read once); returns the upload's id for cancel. With `also`, each
/// cloud's progress and outcome come as `target` events.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn upload_start(
    app: AppHandle,
    state: State<'_, AppState>,
    cloud: String,
    handle: String,
    spec: ImageSpec,
    import: Option<Import>,
    also: Option<Vec<String>>,
    convert: Option<stackdrop::convert::Format>,
    on_event: Channel<UploadEvent>,
) -> CmdResult<String> {
    let path = state.files.path(&handle).ok_or("this file is no longer offered: drop it again")?;
    let session = state.sessions.get(&cloud).await.map_err(shown)?;
    let (others, unreachable) = reach(&state, also.unwrap_or_default().into_iter().filter(|n| *n != cloud)).await;
    let ticket = state.uploads.enter(None);
    let events = on_event.clone();
    let warnings = on_event.clone();
    let opts = UploadOptions {
        on_warning: Some(Arc::new(move |m: &str| {
            let _ = warnings.send(UploadEvent::Warning { message: m.to_owned() });
        })),
        import,
        convert,
        cancel: ticket.cancel.clone(),
        progress: Some(Arc::new(move |p| {
            let _ = events.send(UploadEvent::Progress(p.clone()));
        })),
        ..Default::default()
    };
    let id = ticket.id.clone();
    let started = std::time::Instant::now();
    tauri::async_runtime::spawn(async move {
        let queued = Progress {
            phase: Phase::Queued,
            image_id: None,
            sent: 0,
            total: 0,
            rate: 0.0,
            eta_secs: None,
            server_status: None,
        };
        let _ = on_event.send(UploadEvent::Progress(queued));
        let queue = &app.state::<AppState>().uploads;
        fail_lines(&on_event, unreachable);
        if others.is_empty() {
            let result = queue.run(&ticket, create_and_upload(&session, &spec, &path, &opts)).await;
            tell_if_away(&app, started.elapsed(), &spec.name, &cloud, &result);
            let _ = on_event.send(UploadEvent::outcome(&result));
            return;
        }
        // Several clouds: one read, each its own image, progress and outcome.
        let mut all = vec![(&session, cloud.clone())];
        all.extend(others.iter().map(|(s, n)| (s, n.clone())));
        let targets = named_targets(all.iter().map(|(s, n)| (&***s, n.as_str())), &on_event);
        let many = async { Ok(create_and_upload_to_many(&targets, &spec, &path, &opts, false).await) };
        let results = match queue.run(&ticket, many).await {
            Ok(r) => r,
            // Cancelled while it waited for a slot: every target was.
            Err(e) => all.iter().map(|_| Err(Error::Invalid(e.to_string()))).collect(),
        };
        let labels: Vec<String> = all.iter().map(|(_, n)| n.clone()).collect();
        tell_if_away(&app, started.elapsed(), &spec.name, &labels.join(", "), &first_error(&results));
        for ((_, name), r) in all.iter().zip(&results) {
            let _ = on_event.send(UploadEvent::target(name, UploadEvent::outcome(r)));
        }
    });
    Ok(id)
}

/// A session for each named cloud that can be reached, and for each that cannot (a wrong
/// password, no image service) why: such a cloud fails its own line and the others go on.
async fn reach(
    state: &AppState,
    names: impl Iterator<Item = String>,
) -> (Vec<(Arc<stackdrop::openstack::Session>, String)>, Vec<(String, String)>) {
    let (mut reached, mut unreachable) = (Vec::new(), Vec::new());
    for name in names {
        match state.sessions.get(&name).await {
            Ok(s) => reached.push((s, name)),
            Err(e) => unreachable.push((name, shown(e))),
        }
    }
    (reached, unreachable)
}

/// The lines of the clouds that could not be reached, failed.
fn fail_lines(on_event: &Channel<UploadEvent>, unreachable: Vec<(String, String)>) {
    for (name, message) in unreachable {
        let _ = on_event.send(UploadEvent::target(&name, UploadEvent::Failed { message }));
    }
}

/// A fan-out target per named cloud, its progress sent as that cloud's `target` events.
fn named_targets<'a>(
    clouds: impl Iterator<Item = (&'a stackdrop::openstack::Session, &'a str)>,
    on_event: &Channel<UploadEvent>,
) -> Vec<Target<'a>> {
    clouds
        .map(|(session, name)| {
            let (events, label) = (on_event.clone(), name.to_owned());
            let progress: stackdrop::upload::ProgressFn = Arc::new(move |p| {
                let _ = events.send(UploadEvent::target(&label, UploadEvent::Progress(p.clone())));
            });
            Target { label: name.to_owned(), session, progress: Some(progress) }
        })
        .collect()
}

/// Ok, or the first target's error (for the notification).
fn first_error<T>(results: &[Result<T, Error>]) -> Result<(), Error> {
    match results.iter().find_map(|r| r.as_ref().err()) {
        Some(e) => Err(Error::Invalid(e.localized())),
        None => Ok(()),
    }
}

/// Copy image `id` of `cloud` into every cloud in `to` at once (the image drawer's "Copy to
/// another cloud…"), streamed Glance to Glance: in the upload queue like an upload, each
/// cloud's progress and outcome as `target` events on `on_event`; returns the job's id for
/// cancel.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn image_copy_to_cloud(
    app: AppHandle,
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    to: Vec<String>,
    name: Option<String>,
    visibility: Option<String>,
    on_event: Channel<UploadEvent>,
) -> CmdResult<String> {
    let source = state.sessions.get(&cloud).await.map_err(shown)?;
    let image = source.images().get(&id).await.map_err(|e| shown(Error::from(e)))?;
    let (reached, unreachable) = reach(&state, to.into_iter()).await;
    let ticket = state.uploads.enter(None);
    let opts = UploadOptions { cancel: ticket.cancel.clone(), ..Default::default() };
    let copy = CopyOptions {
        name: name.filter(|n| !n.is_empty()),
        visibility: visibility.filter(|v| !v.is_empty()),
        ..Default::default()
    };
    let job = ticket.id.clone();
    let started = std::time::Instant::now();
    tauri::async_runtime::spawn(async move {
        fail_lines(&on_event, unreachable);
        if reached.is_empty() {
            return;
        }
        let targets = named_targets(reached.iter().map(|(s, n)| (&**s, n.as_str())), &on_event);
        let queue = &app.state::<AppState>().uploads;
        let copying = async { Ok(copy_to_many(&source, &image, &targets, &copy, &opts).await) };
        let results = match queue.run(&ticket, copying).await {
            Ok(r) => r,
            // Cancelled while it waited for a slot: every target was.
            Err(e) => targets.iter().map(|_| Err(Error::Invalid(e.to_string()))).collect(),
        };
        let label = image.name().unwrap_or(image.id()).to_owned();
        let names: Vec<&str> = reached.iter().map(|(_, n)| n.as_str()).collect();
        tell_if_away(&app, started.elapsed(), &label, &names.join(", "), &first_error(&results));
        for ((_, name), r) in reached.iter().zip(&results) {
            let event = match r {
                Ok(Copied::AlreadyThere(there)) => UploadEvent::already_there(there),
                Ok(Copied::Made(u)) => UploadEvent::done(u),
                Err(e) => UploadEvent::ended(e),
            };
            let _ = on_event.send(UploadEvent::target(name, event));
        }
    });
    Ok(job)
}

#[tauri::command]
pub async fn upload_cancel(state: State<'_, AppState>, upload: String) -> CmdResult<()> {
    state.uploads.cancel(&upload);
    Ok(())
}

/// A desktop notification for a long upload that ended while the window was in the background.
fn tell_if_away<T>(app: &AppHandle, elapsed: std::time::Duration, name: &str, cloud: &str, result: &Result<T, Error>) {
    use stackdrop::i18n::{t, tf};
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(true);
    if !super::notify::worth_telling(elapsed, focused) || matches!(result, Err(e) if e.is_cancelled()) {
        return;
    }
    let (title, body) = match result {
        Ok(_) => (t("notify.done.title"), tf("notify.done.body", &[("name", &name), ("cloud", &cloud)])),
        Err(e) => (t("notify.failed.title"), tf("notify.failed.body", &[("name", &name), ("error", &e.localized())])),
    };
    // A D-Bus round trip: not on the runtime's threads.
    tokio::task::spawn_blocking(move || {
        if let Err(e) = super::notify::send(title, &body) {
            tracing::debug!("no desktop notification: {e}");
        }
    });
}

/// How many uploads run at once unless the person changes it.
pub const DEFAULT_PARALLEL: usize = 2;

/// Set how many uploads run at once (1–8); uploads already waiting keep their queue.
#[tauri::command]
pub async fn uploads_set_parallel(state: State<'_, AppState>, parallel: usize) -> CmdResult<usize> {
    let n = state.uploads.set_parallel(parallel);
    state.settings.update(|s| s.parallel = Some(n));
    Ok(n)
}

/// web-download: Glance fetches `uri` itself; returns the active image's id.
#[tauri::command]
pub async fn upload_from_uri(
    state: State<'_, AppState>,
    cloud: String,
    spec: ImageSpec,
    uri: String,
    on_started: Channel<String>,
) -> CmdResult<String> {
    let session = state.sessions.get(&cloud).await.map_err(shown)?;
    let import = Import {
        method: stackdrop::openstack::image::import::ImportMethod::WebDownload { uri },
        stores: vec![],
        all_stores: false,
        allow_failure: false,
    };
    // In the queue like an upload: quitting (or SIGTERM) cancels it, and its image is deleted.
    let ticket = state.uploads.enter(None);
    // The page's Cancel names it like an upload (upload_cancel).
    let _ = on_started.send(ticket.id.clone());
    let fetch = async {
        stackdrop::openstack::image::import::create_from_uri(
            &session,
            &spec,
            &import,
            std::time::Duration::from_secs(600),
            false,
            &ticket.cancel,
        )
        .await
        .map_err(Error::from)
    };
    let image = state.uploads.run(&ticket, fetch).await.map_err(shown)?;
    Ok(image.id().to_owned())
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
        /// A copy found the same data already there (this image) and sent nothing.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        already_there: bool,
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
    /// One cloud's event, when a file goes to several at once.
    Target {
        target: String,
        inner: Box<UploadEvent>,
    },
}

impl UploadEvent {
    fn target(name: &str, inner: UploadEvent) -> UploadEvent {
        UploadEvent::Target { target: name.to_owned(), inner: Box::new(inner) }
    }

    /// A copy that found `image` already holding the same data.
    pub fn already_there(image: &stackdrop::openstack::image::Image) -> UploadEvent {
        UploadEvent::Done {
            image_id: image.id().to_owned(),
            name: image.name().unwrap_or_default().to_owned(),
            status: image.status().to_string(),
            size: image.size().unwrap_or(0),
            md5: image.checksum.clone().unwrap_or_default(),
            sha256: image.other_str("owner_specified.openstack.sha256").unwrap_or_default().to_owned(),
            sha512: match image.os_hash_algo.as_deref() {
                Some("sha512") => image.os_hash_value.clone().unwrap_or_default(),
                _ => String::new(),
            },
            verified_os_hash: None,
            already_there: true,
        }
    }

    /// The final event for an upload's result.
    pub fn outcome(r: &Result<Uploaded, Error>) -> UploadEvent {
        match r {
            Ok(u) => UploadEvent::done(u),
            Err(e) => UploadEvent::ended(e),
        }
    }

    fn done(u: &Uploaded) -> UploadEvent {
        UploadEvent::Done {
            image_id: u.image.id().to_owned(),
            name: u.image.name().unwrap_or_default().to_owned(),
            status: u.image.status().to_string(),
            size: u.digests.bytes,
            md5: u.digests.md5.clone(),
            sha256: u.digests.sha256.clone(),
            sha512: u.digests.sha512.clone(),
            verified_os_hash: u.verified_os_hash.clone(),
            already_there: false,
        }
    }

    /// Failed or cancelled.
    fn ended(e: &Error) -> UploadEvent {
        if e.is_cancelled() {
            UploadEvent::Cancelled { message: e.localized() }
        } else {
            UploadEvent::Failed { message: e.localized() }
        }
    }
}

#[cfg(test)]
mod event_tests {
    use super::*;
    use serde_json::json;
    use stackdrop::openstack::Cleanup;
    use stackdrop::upload::Phase;

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
            Err(Error::Failed { cause: Box::new(Error::Cancelled), image_id: "i".into(), cleanup: Cleanup::Deleted });
        assert_eq!(
            serde_json::to_value(UploadEvent::outcome(&cancelled)).unwrap(),
            json!({"event": "cancelled", "message": "cancelled; image i was deleted"})
        );
        // A file to several clouds: each cloud's events, named.
        let one = UploadEvent::target("lab-demo", UploadEvent::Failed { message: "refused".into() });
        assert_eq!(
            serde_json::to_value(one).unwrap(),
            json!({"event": "target", "target": "lab-demo", "inner": {"event": "failed", "message": "refused"}})
        );
    }
}
