//! The profile manager: list, save (add/edit), duplicate, delete, import, unlock, test.
//! Secrets only ever travel from the page to Rust, never back.

use serde::Serialize;
use stackdrop::config::import::{self, ApplyOptions};
use stackdrop::config::manage::{self, Listed};
use stackdrop::config::profiles::{AuthType, FieldInfo, EDITOR_FIELDS};
use stackdrop::config::{self, process_env, Profile};
use stackdrop::openstack::check::{self, Step};
use stackdrop::openstack::Secret;
use tauri::ipc::Channel;
use tauri::State;

use super::{blocking, shown, AppState, CmdResult, ConfigOffer};

/// What the profile editor is built from.
#[derive(Serialize)]
pub struct EditorShape {
    fields: &'static [FieldInfo],
    auth_types: Vec<AuthType>,
    interfaces: Vec<String>,
}

/// The editor's fields, auth types and interfaces, from the library's own lists.
#[tauri::command]
pub async fn profile_fields() -> CmdResult<EditorShape> {
    use stackdrop::openstack::catalog::Interface;
    Ok(EditorShape {
        fields: EDITOR_FIELDS,
        auth_types: vec![AuthType::Password, AuthType::ApplicationCredential, AuthType::Token],
        interfaces: [Interface::Public, Interface::Internal, Interface::Admin]
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

#[derive(Serialize)]
pub struct ProfilesView {
    profiles: Vec<Listed>,
    file: String,
    /// Why there is no keyring, when there is none.
    keyring_problem: Option<String>,
}

#[tauri::command]
pub async fn profiles_list(state: State<'_, AppState>) -> CmdResult<ProfilesView> {
    let s = state.sessions.clone();
    blocking(move || {
        Ok(ProfilesView {
            profiles: manage::list(&s.store, &s.secrets).map_err(shown)?,
            file: s.store.path().display().to_string(),
            keyring_problem: s.secrets.probe().err().map(|e| e.to_string()),
        })
    })
    .await
}

/// Add (`old_name` empty) or change a profile. `secret` empty keeps the stored one;
/// `ask_each_time` saves without the keyring (the secret is then asked for per session).
#[tauri::command]
pub async fn profile_save(
    state: State<'_, AppState>,
    old_name: Option<String>,
    profile: Profile,
    secret: Option<String>,
    ask_each_time: bool,
) -> CmdResult<Saved> {
    let s = state.sessions.clone();
    let secret = secret.filter(|x| !x.is_empty()).map(Secret::new);
    let name = profile.name.clone();
    let opts = ApplyOptions { replace: false, without_keyring: ask_each_time };
    let (secret_for_session, to_keyring) = if ask_each_time { (secret, None) } else { (None, secret) };
    let settings = state.settings.clone();
    blocking(move || {
        let r = match old_name.filter(|n| !n.is_empty()) {
            Some(old) => {
                s.drop_session(&old);
                let r = manage::update(&s.store, &s.secrets, &old, profile, to_keyring, opts);
                if r.is_ok() && old != name {
                    settings.update(|x| x.cloud_renamed(&old, &name));
                }
                r
            }
            None => manage::save(&s.store, &s.secrets, profile, to_keyring, opts),
        };
        let applied = r.map_err(shown)?;
        if let Some(x) = secret_for_session {
            s.secrets.remember_for_session(&name, &x);
        }
        s.drop_session(&name);
        Ok(Saved { secret_forgotten: !applied.forgotten.is_empty() })
    })
    .await
}

/// What saving did beyond saving.
#[derive(Serialize)]
pub struct Saved {
    /// The profile now points elsewhere (Keystone, user, TLS) and came without a new secret:
    /// its saved secret was removed, and will be asked for.
    secret_forgotten: bool,
}

/// A profile as a clouds.yaml document for other tools, without its secret.
#[tauri::command]
pub async fn profile_export(state: State<'_, AppState>, name: String) -> CmdResult<String> {
    let store = state.sessions.store.clone();
    let n = name.clone();
    let p = blocking(move || manage::get(&store, &n).map_err(shown)).await?;
    let doc = serde_json::json!({ "clouds": { name: p.export_entry(None) } });
    serde_yaml_ng::to_string(&doc).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn profile_duplicate(state: State<'_, AppState>, name: String, new_name: String) -> CmdResult<()> {
    let s = state.sessions.clone();
    blocking(move || manage::duplicate(&s.store, &s.secrets, &name, &new_name).map_err(shown)).await
}

/// Rename a profile: its keyring entry and remembered choices follow it.
#[tauri::command]
pub async fn profile_rename(state: State<'_, AppState>, name: String, new_name: String) -> CmdResult<()> {
    let (s, settings) = (state.sessions.clone(), state.settings.clone());
    s.drop_session(&name);
    blocking(move || {
        manage::rename(&s.store, &s.secrets, &name, new_name.trim()).map_err(shown)?;
        settings.update(|x| x.cloud_renamed(&name, new_name.trim()));
        Ok(())
    })
    .await
}

/// Remove a profile, its keyring entry and what was remembered for it; returns notes for
/// what could not be removed.
#[tauri::command]
pub async fn profile_delete(state: State<'_, AppState>, name: String) -> CmdResult<Vec<String>> {
    let (s, settings) = (state.sessions.clone(), state.settings.clone());
    s.drop_session(&name);
    blocking(move || {
        let notes = manage::remove(&s.store, &s.secrets, std::slice::from_ref(&name)).map_err(shown)?;
        settings.update(|x| x.cloud_removed(&name));
        Ok(notes)
    })
    .await
}

/// The native dialog for a file a profile names (CA bundle, client certificate or key): its
/// path, which the profile keeps (the file itself is read when connecting).
#[tauri::command]
pub async fn profile_pick_file(what: String) -> CmdResult<Option<String>> {
    let title = stackdrop::i18n::tf("ui.editor.pick_title", &[("what", &what)]);
    let picked = rfd::AsyncFileDialog::new()
        .set_title(title)
        .add_filter("PEM", &["pem", "crt", "cer", "key"])
        .add_filter("All files", &["*"])
        .pick_file()
        .await;
    Ok(picked.map(|f| f.path().display().to_string()))
}

/// The secret typed in when connecting: checked with Keystone, then into the keyring
/// (`remember`) or kept for this session only. A refused secret is an error and is not kept.
#[tauri::command]
pub async fn profile_unlock(state: State<'_, AppState>, name: String, secret: String, remember: bool) -> CmdResult<()> {
    let s = state.sessions.clone();
    let secret = Secret::new(secret);
    // Checked against Keystone first: a mistyped secret is said here (the prompt stays open)
    // and never reaches the keyring.
    let (store, n, given) = (s.store.clone(), name.clone(), secret.clone());
    let cloud = blocking(move || {
        let p = manage::get(&store, &n).map_err(shown)?;
        config::profile_cloud(&p, &given, &serde_json::json!({})).map_err(shown)
    })
    .await?;
    stackdrop::openstack::Session::new(cloud).map_err(shown)?.token().await.map_err(shown)?;
    blocking(move || {
        if remember {
            manage::set_secret(&s.store, &s.secrets, &name, &secret).map_err(shown)?;
        } else {
            s.secrets.remember_for_session(&name, &secret);
        }
        s.drop_session(&name);
        Ok(())
    })
    .await
}

/// Run `openstack image create`'s sequence (discovery, token, catalog, Glance) step by step, each step sent to the page as it starts and ends.
#[tauri::command]
pub async fn profile_test(state: State<'_, AppState>, name: String, on_step: Channel<Step>) -> CmdResult<()> {
    let s = state.sessions.clone();
    let opened = blocking(move || {
        config::open(Some(&name), &serde_json::json!({}), &process_env, &s.store, &s.secrets, None).map_err(shown)
    })
    .await?;
    let (_, result) = check::test_connection(opened.cloud, &|step, failure| {
        let mut step = step.clone();
        if let Some(e) = failure {
            step.detail = stackdrop::i18n::Localized::localized(e);
        }
        let _ = on_step.send(step);
    })
    .await;
    result.map_err(shown)
}

/// The native dialog for a clouds.yaml or openrc file.
#[tauri::command]
pub async fn profiles_import_pick(state: State<'_, AppState>) -> CmdResult<Option<ConfigOffer>> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Import clouds.yaml or openrc")
        .add_filter("Cloud settings", &["yaml", "yml", "json", "sh", "rc"])
        .add_filter("All files", &["*"])
        .pick_file()
        .await;
    Ok(picked.map(|f| state.offer_config(f.path().to_owned())))
}

#[derive(Serialize)]
pub struct Imported {
    imported: Vec<String>,
    /// Profiles whose source asks for the secret (an openrc's prompt): ask the person now.
    ask: Vec<AskFor>,
}

#[derive(Serialize)]
pub struct AskFor {
    name: String,
    what: String,
}

async fn read_offered(state: &AppState, handle: Option<&str>) -> CmdResult<Vec<import::Candidate>> {
    let path = match handle {
        Some(h) => Some(state.config_path(h).ok_or("this file is no longer offered: drop it again")?),
        None => None,
    };
    blocking(move || {
        match path {
            Some(path) => import::read_file(&path, None, &process_env),
            None => import::read_standard(&process_env),
        }
        .map_err(shown)
    })
    .await
}

/// What importing would bring in: the clouds' names, or why the file cannot be imported.
#[tauri::command]
pub async fn profiles_import_preview(state: State<'_, AppState>, handle: Option<String>) -> CmdResult<Vec<String>> {
    Ok(read_offered(&state, handle.as_deref()).await?.into_iter().map(|c| c.profile.name).collect())
}

/// Import the offered file (`handle`), or with none, clouds.yaml from the standard places;
/// all its clouds, or `only` one.
#[tauri::command]
pub async fn profiles_import(
    state: State<'_, AppState>,
    handle: Option<String>,
    only: Option<String>,
    replace: bool,
    ask_each_time: bool,
) -> CmdResult<Imported> {
    let s = state.sessions.clone();
    let mut cands = read_offered(&state, handle.as_deref()).await?;
    if let Some(n) = only.filter(|n| !n.is_empty()) {
        cands.retain(|c| c.profile.name == n);
    }
    let opts = ApplyOptions { replace, without_keyring: ask_each_time };
    blocking(move || {
        let applied = import::apply(&s.store, &s.secrets, &cands, opts).map_err(shown)?;
        let no_keyring = s.secrets.probe().is_err();
        for c in &cands {
            s.drop_session(&c.profile.name);
            // Without a keyring, secrets the file carried serve this session only.
            if let (true, Some(x)) = (no_keyring, &c.secret) {
                s.secrets.remember_for_session(&c.profile.name, x);
            }
        }
        let ask = cands
            .iter()
            .filter(|c| c.secret.is_none() && s.secrets.state(&c.profile.name) == config::secrets::SecretState::Missing)
            .map(|c| AskFor {
                name: c.profile.name.clone(),
                what: stackdrop::i18n::secret_label(stackdrop::i18n::current(), c.profile.auth_type),
            })
            .collect();
        Ok(Imported { imported: applied.names, ask })
    })
    .await
}
