//! The desktop window (Tauri 2). One file of thin commands per domain — clouds, files,
//! upload, images — each a few lines over the library. Paths reach the page only as handles
//! (see `stackdrop::upload::local`), from the drag-and-drop event and the file dialog.

mod clouds;
mod files;
mod images;
mod upload;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use stackdrop::config::Sessions;
use stackdrop::upload::local::Registry;
use tauri::{DragDropEvent, Emitter, Manager, WindowEvent};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What the commands share.
pub struct AppState {
    pub sessions: Sessions,
    pub files: Registry,
    pub uploads: Mutex<HashMap<String, CancellationToken>>,
    /// Upload slots: this many uploads run at once, the rest wait their turn.
    pub slots: Mutex<Arc<Semaphore>>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            sessions: Sessions::default(),
            files: Registry::default(),
            uploads: Mutex::default(),
            slots: Mutex::new(Arc::new(Semaphore::new(upload::DEFAULT_PARALLEL))),
        }
    }
}

/// Errors cross to the page as their one-line message.
pub type CmdResult<T> = Result<T, String>;

/// When the process started, for the startup probe (see `clouds::clouds_list`).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

pub fn run() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    let result = tauri::Builder::default()
        .manage(AppState::default())
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                let offered = window.state::<AppState>().files.offer(paths);
                let _ = window.emit("files-offered", offered);
            }
        })
        .invoke_handler(tauri::generate_handler![
            clouds::clouds_list,
            clouds::cloud_connect,
            files::files_pick,
            files::files_forget,
            upload::upload_start,
            upload::upload_cancel,
            upload::uploads_set_parallel,
            upload::upload_from_uri,
            images::images_list,
            images::image_show,
            images::image_delete,
            images::image_copy,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stackdrop: cannot open the window: {e} (use `stackdrop --help` for the command line)");
            ExitCode::FAILURE
        }
    }
}
