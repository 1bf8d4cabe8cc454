//! Which clouds exist, and connecting to one (discovery + token + image endpoint).

use serde::Serialize;
use stackdrop::config::{self, CloudChoice};
use tauri::State;

use super::{AppState, CmdResult};

#[derive(Serialize)]
pub struct CloudsView {
    clouds: Vec<CloudChoice>,
    clouds_file: Option<String>,
    preferred: Option<String>,
}

/// The page's first call: its script is running, so the window is interactive. With
/// `STACKDROP_STARTUP_PROBE=1` (bench/launch) the app reports how long that took and exits.
#[tauri::command]
pub async fn clouds_list() -> CmdResult<CloudsView> {
    if std::env::var_os("STACKDROP_STARTUP_PROBE").is_some() {
        let ms = super::STARTED.get().map(|t| t.elapsed().as_millis()).unwrap_or(0);
        eprintln!("stackdrop: interactive {ms} ms after start");
        std::process::exit(0);
    }
    let env = |k: &str| std::env::var(k).ok();
    let (clouds, clouds_file, preferred) = config::choices(&env).map_err(|e| e.to_string())?;
    Ok(CloudsView { clouds, clouds_file, preferred })
}

#[derive(Serialize)]
pub struct Connected {
    user: Option<String>,
    project: Option<String>,
    expires_at: String,
    image_endpoint: String,
    image_api: String,
}

/// Authenticate and find Glance, so the page can show who and where, or the one error.
#[tauri::command]
pub async fn cloud_connect(state: State<'_, AppState>, cloud: String) -> CmdResult<Connected> {
    let s = state.sessions.get(&cloud).map_err(|e| e.to_string())?;
    let token = s.token().await.map_err(|e| e.to_string())?;
    let image = s.image_service().await.map_err(|e| e.to_string())?;
    Ok(Connected {
        user: token.user_name,
        project: token.project_name,
        expires_at: token.expires_at.to_string(),
        image_endpoint: image.root.to_string(),
        image_api: image.version.id,
    })
}
