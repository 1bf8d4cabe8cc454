//! Taking in what people already have — clouds.yaml (+ secure.yaml), openrc files, the `OS_*`
//! environment — as profiles. Reading is separate from saving: every source is read and checked
//! completely first ([`Candidate`]s), then [`apply`] writes the keyring and the profile file as
//! one step that is undone if any part fails. Nothing is ever half-imported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::error::{Error, Result};
use crate::openstack::Secret;

use super::clouds::{env_cloud, located, merge, parse_clouds_text, CloudFiles};
use super::openrc;
use super::profiles::{check_name, same_file, Profile, ProfileStore};
use super::secrets::{KeyringError, Secrets};

/// One profile ready to be saved, and its secret if the source had it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub profile: Profile,
    #[serde(skip)]
    pub secret: Option<Secret>,
    /// The source reads the secret from the terminal (an openrc's `read -sr`): ask for it.
    pub ask_secret: bool,
    /// Where it came from, for messages ("clouds.yaml", "admin-openrc.sh", "environment").
    pub source: String,
}

impl Candidate {
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }
}

fn candidates_from_entries(
    path: &Path,
    text: &str,
    entries: BTreeMap<String, Value>,
    source: &str,
) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for (name, entry) in entries {
        let (profile, secret) = Profile::from_entry(&name, &entry)
            .map_err(|e| Error::File { path: located(path, text, &name), detail: e.to_string() })?;
        out.push(Candidate { profile, secret, ask_secret: false, source: source.to_owned() });
    }
    Ok(out)
}

/// A clouds.yaml, with its secure.yaml merged in as openstacksdk does: the one given, else a
/// `secure.yaml` beside it.
pub fn read_clouds_yaml(path: &Path, secure: Option<&Path>) -> Result<Vec<Candidate>> {
    let text = read_text(path)?;
    let mut entries = parse_clouds_text(path, &text)?;
    let secure = secure.map(Path::to_path_buf).or_else(|| sibling_secure(path));
    if let Some(s) = &secure {
        let stext = read_text(s)?;
        for (name, extra) in parse_clouds_text(s, &stext)? {
            match entries.get_mut(&name) {
                Some(e) => merge(e, &extra),
                None => {
                    return Err(Error::File {
                        path: located(s, &stext, &name),
                        detail: format!("cloud '{name}' is not in {}", path.display()),
                    })
                }
            }
        }
    }
    let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    candidates_from_entries(path, &text, entries, &name)
}

fn sibling_secure(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    ["secure.yaml", "secure.yml", "secure.json"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file() && !same_file(p, path))
}

/// clouds.yaml + secure.yaml from where openstacksdk looks (`OS_CLIENT_CONFIG_FILE`, the
/// current directory, `~/.config/openstack`, `/etc/openstack`).
pub fn read_standard(env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Candidate>> {
    let files = CloudFiles::load(env)?;
    let Some(path) = files.clouds_file.clone() else {
        return Err(Error::Invalid(format!(
            "no clouds.yaml was found (looked in {})",
            files.searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    };
    let text = read_text(&path)?;
    candidates_from_entries(&path, &text, files.clouds, "clouds.yaml")
}

/// An openrc file. The profile is named after the file (`demo-openrc.sh` → `demo`) unless
/// a name is given.
pub fn read_openrc(path: &Path, name: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Candidate> {
    let text = read_text(path)?;
    let rc = openrc::parse(path, &text, env)?;
    if rc.get("OS_AUTH_URL").is_none() {
        return Err(Error::File { path: path.display().to_string(), detail: "the file sets no OS_AUTH_URL".into() });
    }
    let name = match name {
        Some(n) => n.to_owned(),
        None => openrc_name(path),
    };
    let entry = env_cloud(&|k| rc.get(k));
    let (profile, secret) = Profile::from_entry(&name, &entry)
        .map_err(|e| Error::File { path: path.display().to_string(), detail: e.to_string() })?;
    let asked_key = match profile.auth_type.secret_key() {
        "password" => "OS_PASSWORD",
        "application_credential_secret" => "OS_APPLICATION_CREDENTIAL_SECRET",
        _ => "OS_TOKEN",
    };
    let ask_secret = secret.is_none() && rc.asked.iter().any(|a| a == asked_key);
    let source = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Candidate { profile, secret, ask_secret, source })
}

fn openrc_name(path: &Path) -> String {
    let stem = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = stem.strip_suffix(".sh").unwrap_or(&stem);
    let stem = stem.strip_suffix("-openrc").or_else(|| stem.strip_suffix("_openrc")).unwrap_or(stem);
    let stem = stem.strip_suffix(".rc").unwrap_or(stem);
    if stem.is_empty() || stem == "openrc" {
        "openrc".into()
    } else {
        stem.to_owned()
    }
}

/// The process's `OS_*` variables, as openstackclient's `envvars` cloud.
pub fn read_env(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Candidate> {
    if env("OS_AUTH_URL").is_none_or(|v| v.is_empty()) {
        return Err(Error::Invalid(
            "OS_AUTH_URL is not set: source an openrc file first, or import the file itself".into(),
        ));
    }
    let (profile, secret) = Profile::from_entry(name, &env_cloud(env))?;
    Ok(Candidate { profile, secret, ask_secret: false, source: "environment".into() })
}

/// A file of either kind, told apart by its content.
pub fn read_file(path: &Path, name: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Candidate>> {
    let text = read_text(path)?;
    if openrc::looks_like_openrc(&text) {
        return Ok(vec![read_openrc(path, name, env)?]);
    }
    let mut all = read_clouds_yaml(path, None)?;
    if all.is_empty() {
        return Err(Error::File { path: path.display().to_string(), detail: "it defines no clouds".into() });
    }
    if let Some(n) = name {
        // `--name` with a clouds.yaml picks that one cloud.
        all.retain(|c| c.profile.name == n);
        if all.is_empty() {
            return Err(Error::File {
                path: path.display().to_string(),
                detail: format!("there is no cloud '{n}' in it"),
            });
        }
    }
    Ok(all)
}

/// Is this a clouds.yaml or an openrc rather than a disk image? (For a file dropped on the
/// window: its name says settings, and its text agrees.)
pub fn is_settings_file(path: &Path) -> bool {
    let name = path.file_name().map(|f| f.to_string_lossy().to_lowercase()).unwrap_or_default();
    let named = [".yaml", ".yml", ".json", ".sh", ".rc"].iter().any(|e| name.ends_with(e)) || name.contains("openrc");
    named
        && path.is_file()
        && read_text(path).is_ok_and(|t| {
            openrc::looks_like_openrc(&t)
                || t.lines().any(|l| l.trim_start().starts_with("clouds") || l.contains("\"clouds\""))
        })
}

fn read_text(path: &Path) -> Result<String> {
    super::clouds::read_settings_text(path)
}

/// How [`apply`] treats profiles that already exist, and secrets when there is no keyring.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Overwrite profiles of the same name (otherwise: refuse the whole import).
    pub replace: bool,
    /// With no keyring reachable, save the profiles anyway and ask for each secret when it is
    /// needed (otherwise: refuse, naming the problem).
    pub without_keyring: bool,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The profiles saved.
    pub names: Vec<String>,
    /// Profiles that replaced one whose secret went elsewhere (another Keystone, user or TLS
    /// setting) and brought no secret of their own: the old secret and kept token were
    /// removed, so it is asked for again rather than sent to the new place.
    pub forgotten: Vec<String>,
}

/// Save the candidates: secrets into the keyring first, then the profile file. If any step
/// fails, what was done is undone (previous keyring values are put back) and nothing changes.
/// A replaced profile keeps its stored secret only while the secret would still go to the same
/// place ([`Profile::secret_bound_alike`]).
pub fn apply(store: &ProfileStore, secrets: &Secrets, cands: &[Candidate], opts: ApplyOptions) -> Result<Applied> {
    let mut profiles = store.load()?;
    let mut seen = std::collections::BTreeSet::new();
    for c in cands {
        check_name(&c.profile.name)?;
        if !seen.insert(c.profile.name.clone()) {
            return Err(Error::Invalid(format!("profile '{}' appears twice in what is imported", c.profile.name)));
        }
    }
    let clashes: Vec<&str> =
        cands.iter().map(|c| c.profile.name.as_str()).filter(|n| profiles.contains_key(*n)).collect();
    if !clashes.is_empty() && !opts.replace {
        return Err(Error::Invalid(format!(
            "profile{} {} already exist{}; nothing was imported (replace them, or import under another name)",
            if clashes.len() > 1 { "s" } else { "" },
            clashes.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
            if clashes.len() > 1 { "" } else { "s" }
        )));
    }
    // Keyring first; remember what was there to put it back.
    let mut undo: Vec<(String, Option<Secret>)> = Vec::new();
    let rollback = |undo: &[(String, Option<Secret>)]| {
        for (name, old) in undo.iter().rev() {
            let _ = match old {
                Some(s) => secrets.save_credential(name, s),
                None => secrets.keyring().delete(super::secrets::Kind::Credential, name),
            };
        }
    };
    let mut forgotten = Vec::new();
    for c in cands.iter() {
        let name = &c.profile.name;
        let Some(secret) = &c.secret else {
            let moved = profiles.get(name).is_some_and(|old| !old.secret_bound_alike(&c.profile));
            if moved {
                match secrets.keyring().get(super::secrets::Kind::Credential, name) {
                    Ok(old) => {
                        if let Err(e) = secrets.keyring().delete(super::secrets::Kind::Credential, name) {
                            rollback(&undo);
                            return Err(keyring_refusal(e));
                        }
                        undo.push((name.clone(), old));
                    }
                    // Nothing can be stored there, so nothing stored can go astray.
                    Err(KeyringError::Unavailable(_)) => {}
                    Err(e) => {
                        rollback(&undo);
                        return Err(keyring_refusal(e));
                    }
                }
                let _ = secrets.keyring().delete(super::secrets::Kind::Token, name);
                secrets.forget_for_session(name);
                forgotten.push(name.clone());
            }
            continue;
        };
        let old = match secrets.keyring().get(super::secrets::Kind::Credential, name) {
            Ok(old) => old,
            Err(KeyringError::Unavailable(d)) if opts.without_keyring => {
                tracing::debug!("no keyring ({d}); {name}'s secret will be asked for");
                continue;
            }
            Err(e) => {
                rollback(&undo);
                return Err(keyring_refusal(e));
            }
        };
        if let Err(e) = secrets.save_credential(name, secret) {
            rollback(&undo);
            return Err(keyring_refusal(e));
        }
        let _ = secrets.keyring().delete(super::secrets::Kind::Token, name);
        undo.push((name.clone(), old));
    }
    for c in cands {
        profiles.insert(c.profile.name.clone(), c.profile.clone());
    }
    if let Err(e) = store.save(&profiles) {
        rollback(&undo);
        return Err(e);
    }
    Ok(Applied { names: cands.iter().map(|c| c.profile.name.clone()).collect(), forgotten })
}

/// The message when the keyring cannot take a secret: plain, with the two ways forward.
pub fn keyring_refusal(e: KeyringError) -> Error {
    match e {
        KeyringError::Unavailable(d) => Error::Keyring(format!(
            "no OS keyring is reachable ({d}), so the secret cannot be kept; nothing was saved. \
             Start the desktop's keyring (GNOME Keyring, KWallet) and try again, or save without the secret \
             and type it in when it is needed (CLI: --no-keyring; app: \"Ask each time\")"
        )),
        KeyringError::Failed(d) => {
            Error::Keyring(format!("the OS keyring refused the secret ({d}); nothing was saved"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::secrets::{Kind, Memory, SecretStore};

    struct NoKeyring;
    impl SecretStore for NoKeyring {
        fn get(&self, _: Kind, _: &str) -> Result<Option<Secret>, KeyringError> {
            Err(KeyringError::Unavailable("no session bus".into()))
        }
        fn set(&self, _: Kind, _: &str, _: &Secret) -> Result<(), KeyringError> {
            Err(KeyringError::Unavailable("no session bus".into()))
        }
        fn delete(&self, _: Kind, _: &str) -> Result<(), KeyringError> {
            Err(KeyringError::Unavailable("no session bus".into()))
        }
        fn describe(&self) -> &'static str {
            "none"
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const CLOUDS: &str = "clouds:\n  a:\n    auth:\n      auth_url: http://k/v3\n      username: u\n      password: pa-1\n      user_domain_name: Default\n      project_id: p1\n  b:\n    auth:\n      auth_url: http://k/v3\n      application_credential_id: ac\n      application_credential_secret: sb-2\n";

    #[test]
    fn yaml_errors_carry_the_line() {
        let e = parse_clouds_text(Path::new("c.yaml"), "clouds:\n  a:\n    auth: [\n").unwrap_err().to_string();
        assert!(e.contains("c.yaml:4") && e.contains("not valid YAML"), "{e}");
        let e = parse_clouds_text(Path::new("c.yaml"), "clouds:\n  a: 5\n").unwrap_err().to_string();
        assert!(e.contains("c.yaml:2") && e.contains("not a mapping"), "{e}");
        let e = parse_clouds_text(Path::new("c.yaml"), "hello: 1\n").unwrap_err().to_string();
        assert!(e.contains("no 'clouds:' section"), "{e}");
    }

    #[test]
    fn a_bad_entry_names_its_line_and_nothing_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "clouds.yaml", &format!("{CLOUDS}  c:\n    auth:\n      username: nobody\n"));
        let e = read_file(&p, None, &|_| None).unwrap_err().to_string();
        assert!(e.contains("clouds.yaml:14") && e.contains("cloud 'c'") && e.contains("auth URL is missing"), "{e}");
    }

    #[test]
    fn secure_yaml_beside_is_merged_and_secrets_go_to_the_keyring_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "clouds.yaml", &CLOUDS.replace("      password: pa-1\n", ""));
        write(dir.path(), "secure.yaml", "clouds:\n  a:\n    auth:\n      password: from-secure\n");
        let cands = read_file(&p, None, &|_| None).unwrap();
        assert_eq!(cands.len(), 2);
        let store = ProfileStore::at(dir.path().join("cfg"));
        let secrets = Secrets::new(Box::new(Memory::default()));
        let applied = apply(&store, &secrets, &cands, ApplyOptions::default()).unwrap();
        assert_eq!(applied, Applied { names: vec!["a".into(), "b".into()], forgotten: vec![] });
        assert_eq!(secrets.credential("a").unwrap().unwrap().expose(), "from-secure");
        assert_eq!(secrets.credential("b").unwrap().unwrap().expose(), "sb-2");
        let file = std::fs::read_to_string(store.path()).unwrap();
        assert!(!file.contains("from-secure") && !file.contains("sb-2"), "{file}");
        // Importing again clashes, and changes nothing.
        let e = apply(&store, &secrets, &cands, ApplyOptions::default()).unwrap_err().to_string();
        assert!(e.contains("'a', 'b' already exist") && e.contains("nothing was imported"), "{e}");
    }

    #[test]
    fn no_keyring_refuses_unless_asked_to_go_without() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "clouds.yaml", CLOUDS);
        let cands = read_file(&p, None, &|_| None).unwrap();
        let store = ProfileStore::at(dir.path().join("cfg"));
        let secrets = Secrets::new(Box::new(NoKeyring));
        let e = apply(&store, &secrets, &cands, ApplyOptions::default()).unwrap_err().to_string();
        assert!(e.contains("no OS keyring is reachable") && e.contains("nothing was saved"), "{e}");
        assert!(!store.path().exists());
        let opts = ApplyOptions { without_keyring: true, ..Default::default() };
        apply(&store, &secrets, &cands, opts).unwrap();
        assert!(!std::fs::read_to_string(store.path()).unwrap().contains("pa-1"));
    }

    #[test]
    fn openrc_names_and_variants() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "demo-openrc.sh",
            "export OS_AUTH_URL=http://k:5000/v3\nexport OS_PROJECT_ID=p1\nexport OS_USERNAME=\"demo\"\nexport OS_USER_DOMAIN_NAME=\"Default\"\nread -sr OS_PASSWORD_INPUT\nexport OS_PASSWORD=$OS_PASSWORD_INPUT\n",
        );
        let c = read_file(&p, None, &|_| None).unwrap().remove(0);
        assert_eq!(c.profile.name, "demo");
        assert!(c.ask_secret && c.secret.is_none());
        let p = write(
            dir.path(),
            "app-cred-ci-openrc.sh",
            "export OS_AUTH_TYPE=v3applicationcredential\nexport OS_AUTH_URL=http://k:5000/v3\nexport OS_APPLICATION_CREDENTIAL_ID=id1\nexport OS_APPLICATION_CREDENTIAL_SECRET=sec1\n",
        );
        let c = read_file(&p, Some("ci"), &|_| None).unwrap().remove(0);
        assert_eq!(c.profile.name, "ci");
        assert!(!c.ask_secret);
        assert_eq!(c.secret.unwrap().expose(), "sec1");
    }
}
