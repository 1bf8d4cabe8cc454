//! Which clouds exist (profiles, clouds.yaml, `OS_*`), and connecting to one (discovery +
//! token + image endpoint).

use super::remembered::UploadChoices;
use serde::Serialize;
use stackdrop::config::profiles::UploadDefaults;
use stackdrop::config::{self, process_env, CloudChoice};
use stackdrop::openstack::Error;
use tauri::State;

use super::{blocking, AppState, CmdResult};

#[derive(Serialize)]
pub struct CloudsView {
    clouds: Vec<CloudChoice>,
    clouds_file: Option<String>,
    /// `OS_CLOUD`, else the cloud used last time.
    preferred: Option<String>,
    parallel: usize,
    /// The upload form's last choices.
    upload: UploadChoices,
}

/// The page's first call: its script is running, so the window is interactive. With
/// `STACKDROP_STARTUP_PROBE=1` (bench/launch) the app reports how long that took and exits.
#[tauri::command]
pub async fn clouds_list(state: State<'_, AppState>) -> CmdResult<CloudsView> {
    if std::env::var_os("STACKDROP_STARTUP_PROBE").is_some() {
        let ms = super::STARTED.get().map(|t| t.elapsed().as_millis()).unwrap_or(0);
        eprintln!("stackdrop: interactive {ms} ms after start");
        std::process::exit(0);
    }
    let (store, settings) = (state.sessions.store.clone(), state.settings.clone());
    let ((clouds, clouds_file, preferred), remembered) =
        blocking(move || Ok((config::choices(&process_env, &store).map_err(|e| e.to_string())?, settings.load())))
            .await?;
    let preferred = preferred.or(remembered.last_cloud);
    let parallel = remembered.parallel.unwrap_or(super::upload::DEFAULT_PARALLEL);
    Ok(CloudsView { clouds, clouds_file, preferred, parallel, upload: remembered.upload })
}

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Connection {
    Connected {
        user: Option<String>,
        project: Option<String>,
        expires_at: String,
        image_endpoint: String,
        image_api: String,
        /// The profile's upload defaults (empty for clouds.yaml / `OS_*` clouds).
        defaults: UploadDefaults,
    },
    /// The profile's secret is not stored (or there is no keyring): the page asks for it.
    NeedsSecret { what: &'static str, why: String, keyring: bool },
}

/// Authenticate and find Glance, so the page can show who and where, or the one error.
#[tauri::command]
pub async fn cloud_connect(state: State<'_, AppState>, cloud: String) -> CmdResult<Connection> {
    let sessions = &state.sessions;
    let s = match sessions.get(&cloud).await {
        Ok(s) => s,
        Err(Error::SecretNeeded { what, why, .. }) => {
            let secrets = sessions.secrets.clone();
            let keyring = blocking(move || Ok(secrets.probe().is_ok())).await?;
            return Ok(Connection::NeedsSecret { what, why, keyring });
        }
        Err(e) => return Err(e.to_string()),
    };
    let token = s.token().await.map_err(|e| e.to_string())?;
    let image = s.image_service().await.map_err(|e| e.to_string())?;
    let (store, name) = (sessions.store.clone(), cloud.clone());
    let defaults = blocking(move || {
        Ok(store.load().ok().and_then(|mut p| p.remove(&name)).map(|p| p.defaults).unwrap_or_default())
    })
    .await?;
    state.settings.update(|s| s.last_cloud = Some(cloud.clone()));
    Ok(Connection::Connected {
        user: token.user_name,
        project: token.project_name,
        expires_at: token.expires_at.to_string(),
        image_endpoint: image.root.to_string(),
        image_api: image.version.id,
        defaults,
    })
}
