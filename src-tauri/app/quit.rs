//! Quitting with uploads running. The window's close button and Ctrl+Q ask first ("2 uploads
//! running — cancel them and quit?"); on yes, and on SIGTERM or SIGINT (a logout, a service
//! manager, Ctrl-C in the launching terminal), every upload is cancelled, each deletes the
//! image it made, and the app exits once they are done — or after [`CLEANUP_LIMIT`] at most.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use super::{AppState, CmdResult};

/// The longest the app waits for cancelled uploads to delete their images before it exits.
pub const CLEANUP_LIMIT: Duration = Duration::from_secs(30);

/// The window is asked to close: true when the close must wait (uploads run, and the page now
/// asks the person); false to close at once.
pub fn must_ask(app: &AppHandle) -> bool {
    let state = app.state::<AppState>();
    if state.quitting.load(Ordering::SeqCst) || state.uploads.is_empty() {
        return false;
    }
    let _ = app.emit("quit-requested", state.uploads.len());
    true
}

/// Cancel every upload, let each clean up (bounded), then exit. Once only.
pub fn quit_after_cleanup(app: AppHandle) {
    let state = app.state::<AppState>();
    if state.quitting.swap(true, Ordering::SeqCst) {
        return;
    }
    let n = state.uploads.cancel_all();
    tauri::async_runtime::spawn(async move {
        if n > 0 && !app.state::<AppState>().uploads.drained(CLEANUP_LIMIT).await {
            tracing::warn!("quitting after {} s with uploads still cleaning up", CLEANUP_LIMIT.as_secs());
        }
        app.exit(0);
    });
}

/// Ctrl+Q: as the close button.
#[tauri::command]
pub async fn app_close(app: AppHandle) -> CmdResult<()> {
    if !must_ask(&app) {
        quit_after_cleanup(app);
    }
    Ok(())
}

/// The person said yes: cancel the uploads, clean up, quit.
#[tauri::command]
pub async fn app_quit(app: AppHandle) -> CmdResult<()> {
    quit_after_cleanup(app);
    Ok(())
}

/// SIGTERM and SIGINT quit as a confirmed close does: nothing is asked, nothing is left.
pub fn on_signals(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        quit_after_cleanup(app);
    });
}
