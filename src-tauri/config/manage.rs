//! Changing profiles: the operations the CLI's `profile` commands and the app's profile
//! manager share. Each keeps the profile file and the keyring in step: a renamed profile's
//! secret moves with it, a removed profile's secret goes with it.

use serde::Serialize;

use super::error::{Error, Result};
use crate::openstack::Secret;

use super::import::{apply, keyring_refusal, Applied, ApplyOptions, Candidate};
use super::profiles::{check_name, Profile, ProfileStore};
use super::secrets::{KeyringError, SecretState, Secrets};

/// A profile as listed: never its secret, only where the secret is.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub profile: Profile,
    pub secret: SecretState,
}

pub fn list(store: &ProfileStore, secrets: &Secrets) -> Result<Vec<Listed>> {
    Ok(store.load()?.into_values().map(|p| Listed { secret: secrets.state(&p.name), profile: p }).collect())
}

pub fn get(store: &ProfileStore, name: &str) -> Result<Profile> {
    store.load()?.remove(name).ok_or_else(|| not_found(store, name))
}

fn not_found(store: &ProfileStore, name: &str) -> Error {
    Error::Invalid(format!("there is no profile '{name}' (profiles are in {})", store.path().display()))
}

/// Save one profile (new, or replacing one of the same name when `replace`). A `None` secret
/// leaves whatever the keyring holds for it, unless the change sends it elsewhere (see
/// [`Applied::forgotten`]).
pub fn save(
    store: &ProfileStore,
    secrets: &Secrets,
    profile: Profile,
    secret: Option<Secret>,
    opts: ApplyOptions,
) -> Result<Applied> {
    profile.check()?;
    let c = Candidate { profile, secret, ask_secret: false, source: "form".into() };
    apply(store, secrets, &[c], opts)
}

/// Change a profile: rename it (moving its keyring entry) if the name changed, then save it.
pub fn update(
    store: &ProfileStore,
    secrets: &Secrets,
    old_name: &str,
    profile: Profile,
    secret: Option<Secret>,
    opts: ApplyOptions,
) -> Result<Applied> {
    profile.check()?;
    if old_name != profile.name {
        rename(store, secrets, old_name, &profile.name)?;
    } else {
        get(store, old_name)?;
    }
    save(store, secrets, profile, secret, ApplyOptions { replace: true, ..opts })
}

/// Replace the secret kept for a profile.
pub fn set_secret(store: &ProfileStore, secrets: &Secrets, name: &str, secret: &Secret) -> Result<()> {
    get(store, name)?;
    secrets.save_credential(name, secret).map_err(keyring_refusal)?;
    let _ = secrets.keyring().delete(super::secrets::Kind::Token, name);
    Ok(())
}

/// Remove profiles and their keyring entries. All names must exist, or nothing is removed.
pub fn remove(store: &ProfileStore, secrets: &Secrets, names: &[String]) -> Result<Vec<String>> {
    let mut all = store.load()?;
    if let Some(missing) = names.iter().find(|n| !all.contains_key(*n)) {
        return Err(not_found(store, missing));
    }
    for n in names {
        all.remove(n);
    }
    store.save(&all)?;
    let mut notes = Vec::new();
    for n in names {
        match secrets.delete_profile(n) {
            Ok(()) => {}
            Err(KeyringError::Unavailable(_)) => notes.push(format!(
                "profile '{n}' removed; no OS keyring is reachable, so a secret it may hold there stays until you remove it"
            )),
            Err(e) => notes.push(format!("profile '{n}' removed, but its keyring entry was not: {e}")),
        }
    }
    Ok(notes)
}

/// Rename a profile; its keyring entry moves with it.
pub fn rename(store: &ProfileStore, secrets: &Secrets, from: &str, to: &str) -> Result<()> {
    check_name(to)?;
    let mut all = store.load()?;
    if all.contains_key(to) {
        return Err(Error::Invalid(format!("there is already a profile '{to}'")));
    }
    let mut p = all.remove(from).ok_or_else(|| not_found(store, from))?;
    secrets.rename_profile(from, to).map_err(keyring_refusal)?;
    p.name = to.to_owned();
    all.insert(to.to_owned(), p);
    if let Err(e) = store.save(&all) {
        let _ = secrets.rename_profile(to, from);
        return Err(e);
    }
    Ok(())
}

/// A copy under a new name, with a copy of the secret.
pub fn duplicate(store: &ProfileStore, secrets: &Secrets, from: &str, to: &str) -> Result<()> {
    let mut p = get(store, from)?;
    p.name = to.to_owned();
    let secret = match secrets.credential(from) {
        Ok(s) => s,
        Err(KeyringError::Unavailable(_)) => None,
        Err(e) => return Err(keyring_refusal(e)),
    };
    save(store, secrets, p, secret, ApplyOptions { without_keyring: true, ..Default::default() }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::secrets::Memory;
    use serde_json::json;

    fn profile(name: &str) -> Profile {
        Profile::from_entry(
            name,
            &json!({"auth": {"auth_url": "http://k/v3", "username": "u", "user_domain_name": "Default", "project_id": "p"}}),
        )
        .unwrap()
        .0
    }

    #[test]
    fn rename_duplicate_remove_keep_file_and_keyring_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path());
        let secrets = Secrets::new(Box::new(Memory::default()));
        save(&store, &secrets, profile("a"), Some(Secret::new("pw".into())), Default::default()).unwrap();
        let e = save(&store, &secrets, profile("a"), None, Default::default()).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        rename(&store, &secrets, "a", "b").unwrap();
        assert!(secrets.credential("a").unwrap().is_none());
        assert_eq!(secrets.credential("b").unwrap().unwrap().expose(), "pw");
        duplicate(&store, &secrets, "b", "c").unwrap();
        assert_eq!(secrets.credential("c").unwrap().unwrap().expose(), "pw");
        let names: Vec<String> = list(&store, &secrets).unwrap().into_iter().map(|l| l.profile.name).collect();
        assert_eq!(names, ["b", "c"]);
        let e = remove(&store, &secrets, &["b".into(), "zz".into()]).unwrap_err();
        assert!(e.to_string().contains("no profile 'zz'"), "{e}");
        assert_eq!(list(&store, &secrets).unwrap().len(), 2, "nothing removed");
        remove(&store, &secrets, &["b".into()]).unwrap();
        assert!(secrets.credential("b").unwrap().is_none());
        let mut edited = profile("c");
        edited.region_name = Some("R2".into());
        edited.name = "d".into();
        update(&store, &secrets, "c", edited, None, Default::default()).unwrap();
        assert_eq!(get(&store, "d").unwrap().region_name.as_deref(), Some("R2"));
        assert_eq!(secrets.credential("d").unwrap().unwrap().expose(), "pw");
    }

    /// A saved secret is bound to the Keystone, user and TLS settings it was saved for: a
    /// change of those without a new secret drops it (and the kept token), so it is asked
    /// for again instead of being sent to the new place. Other changes keep it.
    #[test]
    fn a_saved_secret_does_not_follow_a_profile_elsewhere() {
        use crate::config::secrets::Kind;
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path());
        let secrets = Secrets::new(Box::new(Memory::default()));
        let keep = |secrets: &Secrets| {
            secrets.save_credential("a", &Secret::new("pw".into())).unwrap();
            secrets.keyring().set(Kind::Token, "a", &Secret::new("tok".into())).unwrap();
        };
        save(&store, &secrets, profile("a"), Some(Secret::new("pw".into())), Default::default()).unwrap();
        // The project, region or upload defaults: the same place, the secret stays.
        let mut p = profile("a");
        p.project_id = Some("other-project".into());
        p.region_name = Some("R2".into());
        let applied = update(&store, &secrets, "a", p, None, Default::default()).unwrap();
        assert!(applied.forgotten.is_empty());
        assert_eq!(secrets.credential("a").unwrap().unwrap().expose(), "pw");
        type Change = (&'static str, fn(&mut Profile));
        let changes: [Change; 6] = [
            ("auth URL", |p| p.auth_url = "http://evil.example/v3".into()),
            ("user", |p| p.username = Some("someone-else".into())),
            ("user domain", |p| p.user_domain_name = Some("Other".into())),
            ("verify", |p| p.verify = Some(false)),
            ("CA bundle", |p| p.cacert = Some("/tmp/other-ca.pem".into())),
            ("client cert", |p| p.cert = Some("/tmp/cert.pem".into())),
        ];
        for (what, change) in changes {
            keep(&secrets);
            let mut p = get(&store, "a").unwrap();
            change(&mut p);
            let applied = update(&store, &secrets, "a", p, None, Default::default()).unwrap();
            assert_eq!(applied.forgotten, ["a"], "{what}");
            assert!(secrets.credential("a").unwrap().is_none(), "{what}: the secret is gone");
            assert!(secrets.keyring().get(Kind::Token, "a").unwrap().is_none(), "{what}: the token is gone");
            // Back to where it was, with the secret given again: kept.
            let back = profile("a");
            let applied =
                update(&store, &secrets, "a", back, Some(Secret::new("pw2".into())), Default::default()).unwrap();
            assert!(applied.forgotten.is_empty());
            assert_eq!(secrets.credential("a").unwrap().unwrap().expose(), "pw2");
        }
        // An import that replaces the profile with one for another Keystone, without a secret.
        keep(&secrets);
        let mut moved = profile("a");
        moved.auth_url = "http://elsewhere/v3".into();
        let c = Candidate { profile: moved, secret: None, ask_secret: false, source: "clouds.yaml".into() };
        let applied = apply(&store, &secrets, &[c], ApplyOptions { replace: true, ..Default::default() }).unwrap();
        assert_eq!(applied.forgotten, ["a"]);
        assert!(secrets.credential("a").unwrap().is_none());
    }
}
