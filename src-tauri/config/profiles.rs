//! Stackdrop's own cloud profiles. They live in one clouds.yaml-shaped file in the user's
//! config directory (`~/.config/stackdrop/profiles.yaml` on Linux, the platform's own place
//! elsewhere, `STACKDROP_CONFIG_DIR` to move it) that a person can read and that never holds a
//! secret: each profile's password, application credential secret or token is in the OS
//! keyring (see [`super::secrets`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::{Error, Result};
use crate::openstack::{Cloud, Secret};

use super::entry::{AuthSection, CloudEntry, Verify};

pub const FILE_NAME: &str = "profiles.yaml";

pub use super::entry::{AuthType, UploadDefaults};

/// One cloud as Stackdrop keeps it: what openstacksdk's cloud config holds that matters for
/// uploading images, flat (the app's form and `-f json` show it like this), without the secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub auth_url: String,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    pub identity_api_version: Option<String>,
    pub image_endpoint_override: Option<String>,
    pub cacert: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    /// `false` turns TLS verification off (clouds.yaml `verify: false`).
    pub verify: Option<bool>,
    pub defaults: UploadDefaults,
}

/// A profile's text field as the editor shows it: its key (a [`Profile`] field, and the
/// clouds.yaml key of the same name), the group it belongs to, whether it names a file (the
/// editor offers a picker), and the auth types that use it (`None`: every one). The app's
/// profile editor is built from this list, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    pub key: &'static str,
    pub group: FieldGroup,
    pub file: bool,
    pub auth_types: Option<&'static [AuthType]>,
}

/// The editor's groups, in the order they are shown: who signs in and where, which project,
/// which endpoint, and the TLS files (advanced). Upload defaults are choices of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    Identity,
    Scope,
    Endpoint,
    Advanced,
}

const fn field(key: &'static str, group: FieldGroup, auth_types: Option<&'static [AuthType]>) -> FieldInfo {
    FieldInfo { key, group, file: false, auth_types }
}

const fn file(key: &'static str) -> FieldInfo {
    FieldInfo { key, group: FieldGroup::Advanced, file: true, auth_types: None }
}

const PASSWORD: &[AuthType] = &[AuthType::Password];
const APPCRED: &[AuthType] = &[AuthType::ApplicationCredential];
const USER_DOMAIN: &[AuthType] = &[AuthType::Password, AuthType::ApplicationCredential];
const SCOPED: &[AuthType] = &[AuthType::Password, AuthType::Token];

/// The editor's text fields (the auth type, the secret, interface, `verify` and upload
/// defaults are choices of their own).
pub const EDITOR_FIELDS: &[FieldInfo] = {
    use FieldGroup::*;
    &[
        field("name", Identity, None),
        field("auth_url", Identity, None),
        field("username", Identity, Some(PASSWORD)),
        field("user_id", Identity, Some(PASSWORD)),
        field("user_domain_name", Identity, Some(USER_DOMAIN)),
        field("application_credential_id", Identity, Some(APPCRED)),
        field("application_credential_name", Identity, Some(APPCRED)),
        field("project_name", Scope, Some(SCOPED)),
        field("project_id", Scope, Some(SCOPED)),
        field("project_domain_name", Scope, Some(SCOPED)),
        field("region_name", Endpoint, None),
        field("image_endpoint_override", Endpoint, None),
        file("cacert"),
        file("cert"),
        file("key"),
    ]
};

impl Profile {
    /// Would this profile's secret go to the same place, for the same user, as `other`'s? The
    /// Keystone address, the auth method, the user (or application credential) and the TLS
    /// settings decide it; the project, region and upload defaults do not. A saved secret is
    /// bound to these: when one changes and no new secret is given, the old one is dropped.
    pub fn secret_bound_alike(&self, other: &Profile) -> bool {
        let bound = |p: &Profile| {
            (
                p.auth_url.trim_end_matches('/').to_owned(),
                p.auth_type,
                [&p.username, &p.user_id, &p.user_domain_name, &p.user_domain_id].map(Clone::clone),
                [&p.application_credential_id, &p.application_credential_name].map(Clone::clone),
                [&p.cacert, &p.cert, &p.key].map(Clone::clone),
                p.verify.unwrap_or(true),
            )
        };
        bound(self) == bound(other)
    }

    /// Take a clouds.yaml entry apart: the profile, and the secret its auth type uses (if the
    /// entry carries it). Keys that do not matter here (other services' settings) are dropped;
    /// `default_domain_*` is folded into the user and project domains. The result is checked.
    pub fn from_entry(name: &str, entry: &Value) -> Result<(Profile, Option<Secret>)> {
        let e = CloudEntry::from_value(name, entry)?;
        let p = Profile::from_cloud_entry(name, &e);
        p.check()?;
        Ok((p, e.secret().cloned()))
    }

    /// The profile of a typed entry (its secret left out).
    pub fn from_cloud_entry(name: &str, e: &CloudEntry) -> Profile {
        let a = e.auth.clone();
        let (default_id, default_name) = (a.default_domain_id, a.default_domain_name);
        // A domain given by id or name wins; otherwise the default domain, by id if it has one.
        let fold = |id: Option<String>, dname: Option<String>| match (id, dname) {
            (None, None) if default_id.is_some() => (default_id.clone(), None),
            (None, None) => (None, default_name.clone()),
            given => given,
        };
        let (user_domain_id, user_domain_name) = fold(a.user_domain_id, a.user_domain_name);
        let (project_domain_id, project_domain_name) = fold(a.project_domain_id, a.project_domain_name);
        Profile {
            name: name.to_owned(),
            auth_url: a.auth_url.unwrap_or_default(),
            auth_type: e.auth_type(),
            username: a.username,
            user_id: a.user_id,
            user_domain_name,
            user_domain_id,
            project_name: a.project_name,
            project_id: a.project_id,
            project_domain_name,
            project_domain_id,
            application_credential_id: a.application_credential_id,
            application_credential_name: a.application_credential_name,
            region_name: e.region_name.clone(),
            interface: e.interface.clone(),
            identity_api_version: e.identity_api_version.clone(),
            image_endpoint_override: e.image_endpoint_override.clone(),
            cacert: e.cacert.clone(),
            cert: e.cert.clone(),
            key: e.key.clone(),
            verify: if e.insecure == Some(true) { Some(false) } else { e.verify.map(|v| v.0) },
            defaults: e.defaults.clone().unwrap_or_default(),
        }
    }

    /// The typed entry, without a secret.
    pub fn cloud_entry(&self) -> CloudEntry {
        let p = self.clone();
        CloudEntry {
            auth_type: Some(p.auth_type),
            auth: AuthSection {
                auth_url: Some(p.auth_url).filter(|u| !u.is_empty()),
                username: p.username,
                user_id: p.user_id,
                user_domain_name: p.user_domain_name,
                user_domain_id: p.user_domain_id,
                project_name: p.project_name,
                project_id: p.project_id,
                project_domain_name: p.project_domain_name,
                project_domain_id: p.project_domain_id,
                application_credential_id: p.application_credential_id,
                application_credential_name: p.application_credential_name,
                ..AuthSection::default()
            },
            region_name: p.region_name,
            interface: p.interface,
            identity_api_version: p.identity_api_version,
            image_endpoint_override: p.image_endpoint_override,
            cacert: p.cacert,
            cert: p.cert,
            key: p.key,
            verify: p.verify.map(Verify),
            insecure: None,
            defaults: Some(p.defaults).filter(|d| !d.is_empty()),
        }
    }

    /// The clouds.yaml entry, without any secret.
    pub fn to_entry(&self) -> Value {
        self.cloud_entry().to_value()
    }

    /// The entry for another tool's clouds.yaml: no Stackdrop keys; the secret only if given.
    pub fn export_entry(&self, secret: Option<&Secret>) -> Value {
        let mut e = self.to_entry();
        if let Value::Object(m) = &mut e {
            m.remove("stackdrop");
        }
        if let (Some(s), Some(Value::Object(auth))) = (secret, e.get_mut("auth")) {
            auth.insert(self.auth_type.secret_key().into(), json!(s.expose()));
        }
        e
    }

    /// The entry with its secret, to be merged with overrides and read again.
    pub fn entry_with(&self, secret: &Secret) -> Value {
        self.export_entry(Some(secret))
    }

    /// Everything but the secret is right: the same checks as building the cloud.
    pub fn check(&self) -> Result<()> {
        check_name(&self.name)?;
        self.cloud_entry().check(&self.name)
    }

    pub fn cloud(&self, secret: &Secret) -> Result<Cloud> {
        let mut e = self.cloud_entry();
        e.set_secret(secret.clone());
        e.resolve(&self.name)
    }
}

/// Profile names are keyring account names and YAML keys: keep them printable and short.
pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("a profile needs a name".into()));
    }
    if name != name.trim() || name.chars().any(char::is_control) || name.len() > 128 {
        return Err(Error::Invalid(format!(
            "profile name {name:?} is not allowed: use up to 128 printable characters without leading or trailing spaces"
        )));
    }
    Ok(())
}

/// The profile file.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    dir: PathBuf,
    /// Set when the directory is not the platform's default one.
    own_place: bool,
}

impl ProfileStore {
    /// `STACKDROP_CONFIG_DIR`, else the platform's config directory + `stackdrop`.
    pub fn default_location(env: &dyn Fn(&str) -> Option<String>) -> ProfileStore {
        match env("STACKDROP_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(d) => ProfileStore::at(d),
            None => ProfileStore {
                dir: dirs::config_dir().map(|c| c.join("stackdrop")).unwrap_or_else(|| PathBuf::from(".stackdrop")),
                own_place: false,
            },
        }
    }

    pub fn at(dir: impl Into<PathBuf>) -> ProfileStore {
        ProfileStore { dir: dir.into(), own_place: true }
    }

    /// What keeps this file's keyring entries apart from the default file's.
    pub fn keyring_namespace(&self) -> Option<String> {
        self.own_place
            .then(|| std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone()).display().to_string())
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All profiles, by name. No file yet means none.
    pub fn load(&self) -> Result<BTreeMap<String, Profile>> {
        let path = self.path();
        if !path.exists() {
            return Ok(BTreeMap::new());
        }
        let text = super::clouds::read_settings_text(&path)?;
        let entries = super::clouds::parse_clouds_text(&path, &text)?;
        let mut out = BTreeMap::new();
        for (name, entry) in entries {
            let (p, _) = Profile::from_entry(&name, &entry)
                .map_err(|e| Error::File { path: path.display().to_string(), detail: e.to_string() })?;
            out.insert(name, p);
        }
        Ok(out)
    }

    /// Write all profiles at once (privately, through a temporary file renamed over the old
    /// one, so a crash never leaves half a file; see [`crate::safe_fs::write_private`]).
    pub fn save(&self, profiles: &BTreeMap<String, Profile>) -> Result<()> {
        let path = self.path();
        let io = |e: std::io::Error| Error::File { path: path.display().to_string(), detail: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let clouds: Map<String, Value> = profiles.iter().map(|(n, p)| (n.clone(), p.to_entry())).collect();
        let yaml = serde_yaml_ng::to_string(&json!({ "clouds": clouds }))
            .map_err(|e| Error::File { path: path.display().to_string(), detail: e.to_string() })?;
        let text = format!(
            "# Stackdrop's cloud profiles (clouds.yaml format). No secrets here: passwords,\n\
             # application credential secrets and tokens are in the OS keyring.\n{yaml}"
        );
        crate::safe_fs::write_private(&path, text.as_bytes()).map_err(io)
    }
}

/// Is this path our own profile file? (Importing it into itself makes no sense.)
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trip_keeps_everything_but_the_secret() {
        let entry = json!({
            "auth_type": "password",
            "auth": {"auth_url": "https://k.example:5000/v3", "username": "bob", "password": "pw-9z",
                     "project_name": "demo", "user_domain_name": "Default", "project_domain_id": "default"},
            "region_name": "RegionTwo", "interface": "internal", "identity_api_version": 3,
            "image_endpoint_override": "https://g.example:9292", "cacert": "/etc/ca.pem", "verify": true,
            "compute_api_version": "2.1",
            "stackdrop": {"visibility": "shared", "disk_format": "raw", "convert": "qcow2"}
        });
        let (p, secret) = Profile::from_entry("prod", &entry).unwrap();
        assert_eq!(secret.unwrap().expose(), "pw-9z");
        assert_eq!(p.identity_api_version.as_deref(), Some("3"));
        assert_eq!(p.defaults.visibility.as_deref(), Some("shared"));
        assert_eq!(p.defaults.convert, Some(crate::convert::Format::Qcow2));
        let out = p.to_entry();
        assert!(!out.to_string().contains("pw-9z"));
        assert!(out.get("compute_api_version").is_none(), "keys that do not matter are dropped");
        let (again, none) = Profile::from_entry("prod", &out).unwrap();
        assert_eq!(again, p);
        assert!(none.is_none());
        let exported = p.export_entry(None);
        assert!(exported.get("stackdrop").is_none());
        assert_eq!(p.export_entry(Some(&Secret::new("x".into())))["auth"]["password"], "x");
    }

    #[test]
    fn auth_type_is_inferred_and_only_its_secret_is_taken() {
        let (p, s) = Profile::from_entry(
            "ac",
            &json!({"auth": {"auth_url": "http://k/v3", "application_credential_id": "id1",
                "application_credential_secret": "sek", "password": "unused"}}),
        )
        .unwrap();
        assert_eq!(p.auth_type, AuthType::ApplicationCredential);
        assert_eq!(s.unwrap().expose(), "sek");
        let (p, _) =
            Profile::from_entry("t", &json!({"auth": {"auth_url": "http://k/v3", "token": "tok", "project_id": "p"}}))
                .unwrap();
        assert_eq!(p.auth_type, AuthType::Token);
    }

    #[test]
    fn every_editor_field_is_a_profile_field_that_reaches_the_cloud_entry() {
        let shape = serde_json::to_value(Profile::default()).unwrap();
        for f in EDITOR_FIELDS.iter().filter(|f| f.key != "name") {
            assert!(shape.get(f.key).is_some(), "{} is not a Profile field", f.key);
            let mut p = serde_json::to_value(Profile::default()).unwrap();
            p[f.key] = json!("x-value");
            let p: Profile = serde_json::from_value(p).unwrap();
            assert!(p.to_entry().to_string().contains("x-value"), "{} does not reach clouds.yaml", f.key);
        }
    }

    #[test]
    fn default_domain_folds_into_both() {
        let (p, _) = Profile::from_entry(
            "d",
            &json!({"auth": {"auth_url": "http://k/v3", "username": "u", "project_name": "p", "default_domain_id": "default"}}),
        )
        .unwrap();
        assert_eq!(p.user_domain_id.as_deref(), Some("default"));
        assert_eq!(p.project_domain_id.as_deref(), Some("default"));
    }

    #[test]
    fn incomplete_profiles_are_refused_with_the_reason() {
        let e = Profile::from_entry("x", &json!({"auth": {"auth_url": "http://k/v3", "username": "u"}})).unwrap_err();
        assert!(e.to_string().contains("needs a domain"), "{e}");
        let e = Profile::from_entry("x", &json!({"auth": {"username": "u"}})).unwrap_err();
        assert!(e.to_string().contains("auth URL is missing"), "{e}");
        let e = Profile::from_entry("x", &json!({"auth_type": "v3oidcpassword", "auth": {"auth_url": "http://k"}}))
            .unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        assert!(check_name(" padded").is_err() && check_name("").is_err() && check_name("lab-2").is_ok());
    }

    #[test]
    fn store_writes_a_readable_file_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("sd"));
        assert!(store.load().unwrap().is_empty());
        let (p, _) = Profile::from_entry(
            "lab",
            &json!({"auth": {"auth_url": "http://127.0.0.1:5000/v3", "username": "admin", "password": "s3cret-x",
                "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}}),
        )
        .unwrap();
        let mut all = BTreeMap::new();
        all.insert("lab".to_owned(), p.clone());
        store.save(&all).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(
            text.starts_with("# Stackdrop's cloud profiles") && text.contains("auth_url: http://127.0.0.1:5000/v3")
        );
        assert!(!text.contains("s3cret-x"));
        assert_eq!(store.load().unwrap()["lab"], p);
        assert_eq!(std::fs::read_dir(dir.path().join("sd")).unwrap().count(), 1, "no temporary file left");
    }
}
