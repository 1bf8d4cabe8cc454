//! The desktop window (Tauri 2). One file of thin commands per domain — clouds, files,
//! upload, images — each a few lines over the library. Paths reach the page only as handles
//! (see `files`), from the drag-and-drop event and the file dialog.

mod clouds;
mod files;
mod images;
mod notify;
mod profiles;
mod quit;
mod remembered;
mod settings;
mod upload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use files::Registry;
use remembered::{SettingsStore, WindowGeometry};
use stackdrop::config::Sessions;
use stackdrop::upload::Queue;
use tauri::{DragDropEvent, Emitter, Manager, WindowEvent};

/// What the commands share.
pub struct AppState {
    pub sessions: Arc<Sessions>,
    pub files: Arc<Registry>,
    /// Uploads waiting for or holding one of the parallel slots.
    pub uploads: Queue,
    /// clouds.yaml / openrc files offered for import (dropped or picked), by handle.
    pub configs: Mutex<HashMap<String, PathBuf>>,
    /// What is remembered between runs (settings.json beside the profiles).
    pub settings: SettingsStore,
    /// Quitting: uploads are being cancelled and cleaned up; the window closes when done.
    pub quitting: std::sync::atomic::AtomicBool,
    /// Downloads running (the Images tab's Download), for Cancel.
    pub downloads: images::Downloads,
}

/// A settings file offered for import; the page sees its name and a handle, not its path.
#[derive(serde::Serialize, Clone)]
pub struct ConfigOffer {
    handle: String,
    file_name: String,
}

impl AppState {
    pub fn offer_config(&self, path: PathBuf) -> ConfigOffer {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let handle = format!("c{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        self.configs.lock().unwrap_or_else(|e| e.into_inner()).insert(handle.clone(), path);
        ConfigOffer { handle, file_name }
    }

    pub fn config_path(&self, handle: &str) -> Option<PathBuf> {
        self.configs.lock().unwrap_or_else(|e| e.into_inner()).get(handle).cloned()
    }
}

impl Default for AppState {
    fn default() -> Self {
        let sessions = Arc::new(Sessions::default());
        let settings = SettingsStore::beside(&sessions.store);
        let parallel = settings.load().parallel.unwrap_or(upload::DEFAULT_PARALLEL);
        AppState {
            sessions,
            files: Arc::default(),
            uploads: Queue::new(parallel),
            configs: Mutex::default(),
            settings,
            quitting: Default::default(),
            downloads: Default::default(),
        }
    }
}

/// Put the window where it was last time (if that still fits a screen).
fn restore_geometry(window: &tauri::WebviewWindow, g: WindowGeometry) {
    use tauri::{PhysicalPosition, PhysicalSize};
    if g.width < 200 || g.height < 150 {
        return;
    }
    let _ = window.set_size(PhysicalSize::new(g.width, g.height));
    let on_screen = window.available_monitors().unwrap_or_default().iter().any(|m| {
        let (p, s) = (m.position(), m.size());
        g.x >= p.x && g.y >= p.y && g.x < p.x + s.width as i32 && g.y < p.y + s.height as i32
    });
    if on_screen {
        let _ = window.set_position(PhysicalPosition::new(g.x, g.y));
    }
    if g.maximized {
        let _ = window.maximize();
    }
}

fn save_geometry(window: &tauri::Window, settings: &SettingsStore) {
    let (Ok(pos), Ok(size)) = (window.outer_position(), window.inner_size()) else { return };
    let maximized = window.is_maximized().unwrap_or(false);
    settings.update(|s| {
        // A maximized window keeps the size it had before, to come back to.
        let keep = s.window.filter(|_| maximized);
        s.window = Some(match keep {
            Some(old) => WindowGeometry { maximized, ..old },
            None => WindowGeometry { x: pos.x, y: pos.y, width: size.width, height: size.height, maximized },
        });
    });
}

/// Errors cross to the page as their one-line message.
pub type CmdResult<T> = Result<T, String>;

/// A library error as the page shows it: one line in the person's language.
pub fn shown(e: impl stackdrop::i18n::Localized) -> String {
    e.localized()
}

/// Blocking library work (the profile file, the keyring's D-Bus calls) runs on tokio's
/// blocking pool, never on the threads that serve the page's other commands.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CmdResult<T> + Send + 'static) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| e.to_string())?
}

/// When the process started, for the startup probe (see `clouds::clouds_list`).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

pub fn run() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    stackdrop::i18n::init_from_env();
    let result = tauri::Builder::default()
        .manage(AppState::default())
        .setup(|app| {
            if let (Some(w), Some(g)) = (app.get_webview_window("main"), app.state::<AppState>().settings.load().window)
            {
                restore_geometry(&w, g);
            }
            quit::on_signals(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            if matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_) | WindowEvent::CloseRequested { .. }) {
                save_geometry(window, &window.state::<AppState>().settings);
            }
            if let WindowEvent::CloseRequested { api, .. } = event {
                // Uploads running: ask first; closing would leave their images half-made.
                if quit::must_ask(window.app_handle()) {
                    api.prevent_close();
                }
            }
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                // clouds.yaml and openrc files go to the profile manager, the rest are images.
                let state = window.state::<AppState>();
                let (settings, images): (Vec<PathBuf>, Vec<PathBuf>) =
                    paths.iter().cloned().partition(|p| stackdrop::config::import::is_settings_file(p));
                for p in settings {
                    let _ = window.emit("config-offered", state.offer_config(p));
                }
                if !images.is_empty() {
                    // Reading the files' headers is disk I/O: not on the event loop.
                    let (files, window) = (state.files.clone(), window.clone());
                    tauri::async_runtime::spawn_blocking(move || {
                        let _ = window.emit("files-offered", files.offer(&images));
                    });
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            clouds::clouds_list,
            clouds::cloud_connect,
            profiles::profiles_list,
            profiles::profile_save,
            profiles::profile_duplicate,
            profiles::profile_export,
            profiles::profile_delete,
            profiles::profile_unlock,
            profiles::profile_test,
            profiles::profiles_import_pick,
            profiles::profiles_import,
            profiles::profiles_import_preview,
            profiles::profile_fields,
            profiles::profile_rename,
            profiles::profile_pick_file,
            images::image_formats,
            settings::i18n_catalog,
            settings::upload_choices_save,
            files::files_pick,
            files::files_forget,
            upload::upload_start,
            upload::upload_cancel,
            upload::uploads_set_parallel,
            upload::upload_from_uri,
            images::images_page,
            images::image_get,
            images::project_name,
            images::image_update,
            images::image_activation,
            images::image_members,
            images::image_share,
            images::image_unshare,
            images::image_member_status,
            images::image_stores,
            images::image_schema,
            images::image_delete,
            images::image_copy,
            upload::image_copy_to_cloud,
            images::image_download,
            images::image_download_cancel,
            quit::app_close,
            quit::app_quit,
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
