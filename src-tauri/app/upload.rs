//! Uploads run on tokio tasks; their progress and outcome stream to the page on a Channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use stackdrop::upload::{create_and_upload, ImageSpec, UploadEvent, UploadOptions};
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
    on_event: Channel<UploadEvent>,
) -> CmdResult<String> {
    let path = state.files.path(&handle).ok_or("this file is no longer offered: drop it again")?;
    let session = state.sessions.get(&cloud).map_err(|e| e.to_string())?;
    let cancel = CancellationToken::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = format!("u{}", NEXT.fetch_add(1, Ordering::Relaxed));
    state.uploads.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), cancel.clone());
    let events = on_event.clone();
    let opts = UploadOptions {
        cancel,
        progress: Some(Arc::new(move |p| {
            let _ = events.send(UploadEvent::Progress(p.clone()));
        })),
        ..Default::default()
    };
    let upload = id.clone();
    tauri::async_runtime::spawn(async move {
        let result = create_and_upload(&session, &spec, &path, &opts).await;
        app.state::<AppState>().uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&upload);
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
