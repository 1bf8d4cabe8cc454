//! Where cloud settings come from: Stackdrop's own profiles (secrets in the OS keyring) first,
//! then clouds.yaml + secure.yaml and the `OS_*` environment, read as openstackclient reads
//! them. `--os-cloud NAME` looks in that order.

pub mod clouds;
pub mod entry;
pub mod error;
pub mod import;
pub mod manage;
pub mod openrc;
pub mod profiles;
pub mod secrets;

pub use clouds::{resolve, CloudFiles};
pub use profiles::{Profile, ProfileStore};
pub use secrets::Secrets;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::openstack::session::TokenStore;
use crate::openstack::{Cloud, Secret, Session};
pub use error::{Error, Missing, Result};
use secrets::{KeyringError, Kind, SecretStore};

/// The process environment, as every resolver here takes it.
pub fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// A cloud the person can choose, and where it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudChoice {
    pub name: String,
    /// "profile", "clouds.yaml" or "environment".
    pub source: String,
}

/// The clouds on offer: profiles, then clouds.yaml's entries not hidden by a profile of the
/// same name, then the `OS_*` cloud when `OS_AUTH_URL` is set. Also returns the clouds.yaml
/// path and the cloud `OS_CLOUD` names, if any. A broken clouds.yaml does not hide profiles.
pub fn choices(
    env: &dyn Fn(&str) -> Option<String>,
    store: &ProfileStore,
) -> Result<(Vec<CloudChoice>, Option<String>, Option<String>)> {
    let profiles = store.load()?;
    let mut out: Vec<CloudChoice> =
        profiles.keys().map(|n| CloudChoice { name: n.clone(), source: "profile".into() }).collect();
    let mut file = None;
    match CloudFiles::load(env) {
        Ok(files) => {
            out.extend(
                files
                    .clouds
                    .keys()
                    .filter(|n| !profiles.contains_key(*n))
                    .map(|n| CloudChoice { name: n.clone(), source: "clouds.yaml".into() }),
            );
            file = files.clouds_file.map(|p| p.display().to_string());
        }
        Err(e) if !profiles.is_empty() => tracing::warn!("clouds.yaml skipped: {e}"),
        Err(e) => return Err(e),
    }
    if env("OS_AUTH_URL").is_some_and(|v| !v.is_empty()) {
        out.push(CloudChoice { name: "envvars".into(), source: "environment".into() });
    }
    Ok((out, file, env("OS_CLOUD").filter(|c| !c.is_empty())))
}

/// Asks the person for a secret that is not stored (the CLI's terminal prompt). Gets the
/// profile and why it is asking; `None` means no answer.
pub type Ask<'a> = &'a dyn Fn(&Profile, &Missing) -> Option<Secret>;

/// What [`open`] found.
pub struct Opened {
    pub cloud: Cloud,
    /// Set when the cloud is a Stackdrop profile.
    pub profile: Option<Profile>,
}

/// The `OS_*` variable that carries a profile's kind of secret.
fn env_secret(p: &Profile, env: &dyn Fn(&str) -> Option<String>) -> Option<Secret> {
    env(p.auth_type.secret_env()).filter(|v| !v.is_empty()).map(Secret::new)
}

/// A profile's secret: this session's memory, the keyring, the matching `OS_*` variable, or
/// the person (through `ask`). Otherwise [`Error::SecretNeeded`], saying why.
pub fn profile_secret(
    p: &Profile,
    secrets: &Secrets,
    env: &dyn Fn(&str) -> Option<String>,
    ask: Option<Ask>,
) -> Result<Secret> {
    let why = match secrets.credential(&p.name) {
        Ok(Some(s)) => return Ok(s),
        Ok(None) => Missing::NotSaved,
        Err(KeyringError::Unavailable(d)) => Missing::NoKeyring(d),
        Err(e @ KeyringError::Failed(_)) => return Err(Error::Keyring(e.to_string())),
    };
    if let Some(s) = env_secret(p, env) {
        return Ok(s);
    }
    if let Some(s) = ask.and_then(|a| a(p, &why)) {
        return Ok(s);
    }
    Err(Error::SecretNeeded { profile: p.name.clone(), auth_type: p.auth_type, why })
}

/// Find and build the cloud: a profile named `name` (or `OS_CLOUD`), else clouds.yaml / `OS_*`
/// as [`resolve`] does. `overrides` (command-line flags, clouds.yaml-shaped) win.
pub fn open(
    name: Option<&str>,
    overrides: &Value,
    env: &dyn Fn(&str) -> Option<String>,
    store: &ProfileStore,
    secrets: &Secrets,
    ask: Option<Ask>,
) -> Result<Opened> {
    let wanted = name.map(str::to_owned).or_else(|| env("OS_CLOUD").filter(|s| !s.is_empty()));
    if let Some(n) = &wanted {
        if let Some(p) = store.load()?.remove(n) {
            let secret = profile_secret(&p, secrets, env, ask)?;
            let cloud = profile_cloud(&p, &secret, overrides)?;
            return Ok(Opened { cloud, profile: Some(p) });
        }
    }
    Ok(Opened { cloud: resolve(wanted.as_deref(), overrides, env)?, profile: None })
}

/// The cloud profile `p` describes, with `secret` and `overrides` (command-line flags,
/// clouds.yaml-shaped) applied: what [`open`] builds once it has the secret, and what the app
/// checks a newly typed secret with before keeping it.
pub fn profile_cloud(p: &Profile, secret: &Secret, overrides: &Value) -> Result<Cloud> {
    let mut entry = p.entry_with(secret);
    clouds::merge(&mut entry, overrides);
    clouds::cloud_from_entry(&p.name, &entry)
}

/// A session for what [`open`] found; a profile's session keeps its token in the keyring.
pub fn session(opened: Opened, secrets: &Secrets) -> Result<Session> {
    let s = Session::new(opened.cloud)?;
    Ok(match opened.profile {
        Some(p) => s.with_token_store(Box::new(KeyringTokens { keyring: secrets.shared_keyring(), profile: p.name })),
        None => s,
    })
}

/// A profile's last token, in the keyring. Failures only cost a new login, so they are logged.
struct KeyringTokens {
    keyring: Arc<dyn SecretStore>,
    profile: String,
}

impl TokenStore for KeyringTokens {
    fn load(&self) -> Option<Secret> {
        self.keyring.get(Kind::Token, &self.profile).unwrap_or_else(|e| {
            tracing::debug!("no stored token: {e}");
            None
        })
    }

    fn save(&self, blob: &Secret) {
        if let Err(e) = self.keyring.set(Kind::Token, &self.profile, blob) {
            tracing::debug!("token not stored: {e}");
        }
    }

    fn clear(&self) {
        let _ = self.keyring.delete(Kind::Token, &self.profile);
    }

    fn fingerprint_key(&self) -> Option<Secret> {
        match self.keyring.get(Kind::TokenKey, &self.profile) {
            Ok(Some(key)) => Some(key),
            Ok(None) => {
                let key = crate::openstack::session::new_fingerprint_key()?;
                self.keyring.set(Kind::TokenKey, &self.profile, &key).ok()?;
                Some(key)
            }
            Err(e) => {
                tracing::debug!("no fingerprint key: {e}");
                None
            }
        }
    }
}

/// One session per cloud for the life of the process, so tokens and discovery are reused.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    pub store: ProfileStore,
    pub secrets: Arc<Secrets>,
}

impl Default for Sessions {
    fn default() -> Self {
        let store = ProfileStore::default_location(&process_env);
        let secrets = Secrets::for_store(&store);
        Sessions::new(store, secrets)
    }
}

impl Sessions {
    pub fn new(store: ProfileStore, secrets: Secrets) -> Sessions {
        Sessions { map: Mutex::default(), store, secrets: Arc::new(secrets) }
    }

    /// The session for cloud `name`, opened on first use. Opening reads the profile file and
    /// the keyring (blocking calls), so it runs on tokio's blocking pool with no lock held;
    /// if two callers open the same cloud at once, the first one stored wins.
    pub async fn get(&self, name: &str) -> Result<Arc<Session>> {
        if let Some(s) = self.map.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Ok(s.clone());
        }
        let (store, secrets, n) = (self.store.clone(), self.secrets.clone(), name.to_owned());
        let opened = tokio::task::spawn_blocking(move || open_session(&n, &store, &secrets))
            .await
            .map_err(|e| Error::Invalid(format!("opening cloud '{name}' failed: {e}")))??;
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map.entry(name.to_owned()).or_insert_with(|| Arc::new(opened)).clone())
    }

    /// Forget a cloud's session (after its settings changed, or to retry from scratch).
    pub fn drop_session(&self, name: &str) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }
}

/// Open cloud `name` as the app does: the `OS_*` cloud for "envvars", else a profile or a
/// clouds.yaml cloud, with no one to ask for a missing secret.
fn open_session(name: &str, store: &ProfileStore, secrets: &Secrets) -> Result<Session> {
    let opened = if name == "envvars" {
        let env = |k: &str| if k == "OS_CLOUD" { None } else { process_env(k) };
        Opened { cloud: resolve(None, &serde_json::json!({}), &env)?, profile: None }
    } else {
        open(Some(name), &serde_json::json!({}), &process_env, store, secrets, None)?
    };
    session(opened, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::import::{apply, ApplyOptions, Candidate};
    use crate::config::secrets::Memory;
    use crate::openstack::identity::AuthMethod;
    use serde_json::json;
    use std::cell::RefCell;

    fn password(c: &Cloud) -> String {
        match &c.credentials.method {
            AuthMethod::Password { password, .. } => password.expose().to_owned(),
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn a_profile_wins_over_clouds_yaml_and_its_secret_comes_from_memory_keyring_env_or_the_person() {
        let dir = tempfile::tempdir().unwrap();
        let clouds = dir.path().join("clouds.yaml");
        std::fs::write(&clouds, "clouds:\n  prod:\n    auth:\n      auth_url: http://from-clouds-yaml/v3\n      username: u\n      password: yaml-pw\n      user_domain_name: Default\n      project_id: p\n  other:\n    auth:\n      auth_url: http://other/v3\n      token: t\n").unwrap();
        let clouds = clouds.display().to_string();
        let store = ProfileStore::at(dir.path().join("profiles"));
        let secrets = Secrets::new(Box::new(Memory::default()));
        let (p, _) = Profile::from_entry(
            "prod",
            &json!({"auth": {"auth_url": "http://from-profile/v3", "username": "u", "user_domain_name": "Default", "project_id": "p"}}),
        )
        .unwrap();
        let cand = Candidate { profile: p, secret: None, ask_secret: false, source: "test".into() };
        apply(&store, &secrets, &[cand], ApplyOptions::default()).unwrap();
        let env_with = |pw: Option<&'static str>| {
            let clouds = clouds.clone();
            move |k: &str| match k {
                "OS_CLIENT_CONFIG_FILE" => Some(clouds.clone()),
                "OS_CLIENT_SECURE_FILE" => Some("/nonexistent".into()),
                "OS_PASSWORD" => pw.map(str::to_owned),
                _ => None,
            }
        };
        // No secret anywhere and no one to ask: the error says which profile, what and why.
        let e = open(Some("prod"), &json!({}), &env_with(None), &store, &secrets, None).err().unwrap();
        assert_eq!(e.to_string(), "profile 'prod' needs its password: no password is saved for it");
        // The person is asked, and told why.
        let asked = RefCell::new(String::new());
        let ask = |p: &Profile, why: &Missing| {
            *asked.borrow_mut() = format!("{}: {}", p.name, why.words(p.auth_type));
            Some(Secret::new("typed".into()))
        };
        let o = open(Some("prod"), &json!({}), &env_with(None), &store, &secrets, Some(&ask)).unwrap();
        assert_eq!(*asked.borrow(), "prod: no password is saved for it");
        assert_eq!(
            o.cloud.auth_url.as_str(),
            "http://from-profile/v3",
            "the profile, not clouds.yaml's cloud of the same name"
        );
        assert_eq!(password(&o.cloud), "typed");
        // OS_PASSWORD fills in, as it does for clouds.yaml; the keyring wins over it.
        let o = open(Some("prod"), &json!({}), &env_with(Some("env-pw")), &store, &secrets, None).unwrap();
        assert_eq!(password(&o.cloud), "env-pw");
        secrets.save_credential("prod", &Secret::new("kept".into())).unwrap();
        let o = open(Some("prod"), &json!({}), &env_with(Some("env-pw")), &store, &secrets, None).unwrap();
        assert_eq!(password(&o.cloud), "kept");
        assert!(o.profile.is_some());
        // Flags still override a profile.
        let o = open(Some("prod"), &json!({"region_name": "R9"}), &env_with(None), &store, &secrets, None).unwrap();
        assert_eq!(o.cloud.region.as_deref(), Some("R9"));
        // A name that is no profile falls through to clouds.yaml.
        let o = open(Some("other"), &json!({}), &env_with(None), &store, &secrets, None).unwrap();
        assert!(o.profile.is_none());
        assert_eq!(o.cloud.auth_url.as_str(), "http://other/v3");
        // The list shows the profile once, then clouds.yaml's other cloud.
        let (list, _, _) = choices(&env_with(None), &store).unwrap();
        let got: Vec<(String, String)> = list.into_iter().map(|c| (c.name, c.source)).collect();
        assert_eq!(got, [("prod".into(), "profile".into()), ("other".into(), "clouds.yaml".into())]);
    }
}
