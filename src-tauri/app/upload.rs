//! Uploads run on tokio tasks; their progress and outcome stream to the page on a Channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use stackdrop::upload::import::Import;
use stackdrop::upload::{create_and_upload, ImageSpec, Phase, Progress, UploadEvent, UploadOptions};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tokio_util::sync::CancellationToken;

use super::{AppState, CmdResult};

/// Start uploading the offered file `handle` to `cloud`; returns the upload's id for cancel.
#[tauri::command]
pub async fn upload_start(
    app: AppHandle,
    state: State<'_, AppState>,
    cloud: String,
    handle: String,
    spec: ImageSpec,
    import: Option<Import>,
    on_event: Channel<UploadEvent>,
) -> CmdResult<String> {
    let path = state.files.path(&handle).ok_or("this file is no longer offered: drop it again")?;
    let session = state.sessions.get(&cloud).await.map_err(|e| e.to_string())?;
    let cancel = CancellationToken::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = format!("u{}", NEXT.fetch_add(1, Ordering::Relaxed));
    state.uploads.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), cancel.clone());
    let events = on_event.clone();
    let warnings = on_event.clone();
    let opts = UploadOptions {
        on_warning: Some(Arc::new(move |m: &str| {
            let _ = warnings.send(UploadEvent::Warning { message: m.to_owned() });
        })),
        import,
        cancel,
        progress: Some(Arc::new(move |p| {
            let _ = events.send(UploadEvent::Progress(p.clone()));
        })),
        ..Default::default()
    };
    let upload = id.clone();
    let slots = state.slots.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
        let result = tokio::select! {
            _ = opts.cancel.cancelled() => Err(stackdrop::openstack::Error::Cancelled),
            slot = slots.acquire_owned() => {
                let _slot = slot;
                create_and_upload(&session, &spec, &path, &opts).await
            }
        };
        app.state::<AppState>().uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&upload);
        tell_if_away(&app, started.elapsed(), &spec.name, &cloud, &result);
        let _ = on_event.send(UploadEvent::outcome(&result));
    });
    Ok(id)
}

#[tauri::command]
pub async fn upload_cancel(state: State<'_, AppState>, upload: String) -> CmdResult<()> {
    if let Some(c) = state.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&upload) {
        c.cancel();
    }
    Ok(())
}

/// A desktop notification for a long upload that ended while the window was in the background.
fn tell_if_away<T>(
    app: &AppHandle,
    elapsed: std::time::Duration,
    name: &str,
    cloud: &str,
    result: &Result<T, stackdrop::openstack::Error>,
) {
    use stackdrop::i18n::{t, tf};
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(true);
    if !super::notify::worth_telling(elapsed, focused) || matches!(result, Err(e) if e.is_cancelled()) {
        return;
    }
    let (title, body) = match result {
        Ok(_) => (t("notify.done.title"), tf("notify.done.body", &[("name", &name), ("cloud", &cloud)])),
        Err(e) => (t("notify.failed.title"), tf("notify.failed.body", &[("name", &name), ("error", e)])),
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
    let n = parallel.clamp(1, 8);
    *state.slots.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(tokio::sync::Semaphore::new(n));
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
) -> CmdResult<String> {
    let session = state.sessions.get(&cloud).await.map_err(|e| e.to_string())?;
    let import = Import {
        method: stackdrop::upload::import::ImportMethod::WebDownload { uri },
        stores: vec![],
        all_stores: false,
        allow_failure: false,
    };
    let image = stackdrop::upload::import::create_from_uri(
        &session,
        &spec,
        &import,
        std::time::Duration::from_secs(600),
        false,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(image.id().to_owned())
}
