//! Which clouds exist (profiles, clouds.yaml, `OS_*`), and connecting to one (discovery +
//! token + image endpoint).

use super::remembered::UploadChoices;
use serde::Serialize;
use stackdrop::config::profiles::UploadDefaults;
use stackdrop::config::{self, process_env, CloudChoice};
use tauri::State;

use super::{blocking, shown, AppState, CmdResult};

#[derive(Serialize)]
pub struct CloudsView {
    clouds: Vec<CloudChoice>,
    clouds_file: Option<String>,
    /// `OS_CLOUD`, else the cloud used last time.
    preferred: Option<String>,
    parallel: usize,
    /// The upload choices last used (with any cloud, and with each).
    upload: UploadChoices,
    upload_by_cloud: std::collections::BTreeMap<String, UploadChoices>,
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
        blocking(move || Ok((config::choices(&process_env, &store).map_err(shown)?, settings.load()))).await?;
    let preferred = preferred.or(remembered.last_cloud);
    let parallel = remembered.parallel.unwrap_or(super::upload::DEFAULT_PARALLEL);
    Ok(CloudsView {
        clouds,
        clouds_file,
        preferred,
        parallel,
        upload: remembered.upload,
        upload_by_cloud: remembered.upload_by_cloud,
    })
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
        /// Plain http to another machine, or certificates not checked.
        warnings: Vec<String>,
    },
    /// The profile's secret is not stored (or there is no keyring): the page asks for it.
    /// `why` is in words; `detail` is what the OS said (no keyring), for a disclosure.
    NeedsSecret { what: String, why: String, detail: Option<String>, keyring: bool },
    /// Keystone or Glance said no, or could not be reached: the message, and what fixes it
    /// (the page offers that action on its banner).
    Failed { message: String, fix: Fix, what: Option<String> },
}

/// The action that fixes a failed connection.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    /// Keystone refused the profile's secret: enter it again.
    Secret,
    /// A setting of the profile is wrong (project, region, interface, certificate…).
    Profile,
    /// Nothing answered, or a clouds.yaml / `OS_*` cloud: try again (or test the connection).
    Retry,
}

/// Which fix a connection error calls for (`is_profile`: the cloud is one of Stackdrop's profiles).
fn fix_for(e: &stackdrop::openstack::Error, is_profile: bool) -> Fix {
    use stackdrop::openstack::Error as E;
    match e {
        E::AuthFailed { .. } if is_profile => Fix::Secret,
        E::Unreachable { .. } | E::Timeout { .. } | E::Connection { .. } => Fix::Retry,
        _ if is_profile => Fix::Profile,
        _ => Fix::Retry,
    }
}

async fn failed(state: &AppState, cloud: &str, e: stackdrop::openstack::Error) -> CmdResult<Connection> {
    let (store, name) = (state.sessions.store.clone(), cloud.to_owned());
    let auth_type =
        blocking(move || Ok(store.load().ok().and_then(|mut p| p.remove(&name)).map(|p| p.auth_type))).await?;
    let lang = stackdrop::i18n::current();
    Ok(Connection::Failed {
        fix: fix_for(&e, auth_type.is_some()),
        what: auth_type.map(|a| stackdrop::i18n::secret_label(lang, a)),
        message: shown(e),
    })
}

/// Authenticate and find Glance, so the page can show who and where, or the one error.
#[tauri::command]
pub async fn cloud_connect(state: State<'_, AppState>, cloud: String) -> CmdResult<Connection> {
    let sessions = &state.sessions;
    let s = match sessions.get(&cloud).await {
        Ok(s) => s,
        Err(config::Error::SecretNeeded { auth_type, why, .. }) => {
            let secrets = sessions.secrets.clone();
            let keyring = blocking(move || Ok(secrets.probe().is_ok())).await?;
            let lang = stackdrop::i18n::current();
            let (why, detail) = stackdrop::i18n::missing_secret_in_words(lang, &why, auth_type);
            return Ok(Connection::NeedsSecret {
                what: stackdrop::i18n::secret_label(lang, auth_type),
                why,
                detail,
                keyring,
            });
        }
        Err(e) => return Err(shown(e)),
    };
    let token = match s.token().await {
        Ok(t) => t,
        Err(e) => return failed(&state, &cloud, e).await,
    };
    let image = match s.image_service().await {
        Ok(i) => i,
        Err(e) => return failed(&state, &cloud, e).await,
    };
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
        warnings: s.cloud().wire_warnings().into_iter().map(shown).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdrop::openstack::Error as E;

    #[test]
    fn each_failure_gets_the_action_that_fixes_it() {
        let refused = E::AuthFailed { auth_url: "u".into(), method: "password" };
        assert_eq!(fix_for(&refused, true), Fix::Secret);
        assert_eq!(fix_for(&refused, false), Fix::Retry, "a clouds.yaml password is not ours to re-enter");
        let down = E::Unreachable { url: "u".into(), detail: "refused".into() };
        assert_eq!(fix_for(&down, true), Fix::Retry);
        let project = E::ProjectNotFound { project: "p".into(), auth_url: "u".into() };
        assert_eq!(fix_for(&project, true), Fix::Profile);
    }
}
