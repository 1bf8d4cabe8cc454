//! Cloud settings as openstackclient finds them: `clouds.yaml` (+ `secure.yaml`) from the
//! standard places, the `OS_*` variables of an openrc, and command-line overrides.
//!
//! Every source is first turned into the same clouds.yaml-shaped JSON value, then layered
//! (file entry, then `OS_*` filling only what the entry leaves out, then flags on top) and
//! converted once into a [`Cloud`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::entry::CloudEntry;
use super::error::{Error, Result};
use crate::openstack::Cloud;

/// Where clouds.yaml and secure.yaml were looked for, and what they hold.
#[derive(Debug, Default, Clone)]
pub struct CloudFiles {
    pub clouds_file: Option<PathBuf>,
    pub secure_file: Option<PathBuf>,
    pub searched: Vec<PathBuf>,
    pub clouds: BTreeMap<String, Value>,
}

/// The directories openstacksdk searches, in order: the current directory, the user's
/// config directory, `~/.config/openstack`, `/etc/openstack`.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    if let Some(c) = dirs::config_dir() {
        dirs.push(c.join("openstack"));
    }
    if let Some(h) = dirs::home_dir() {
        dirs.push(h.join(".config/openstack"));
    }
    dirs.push(PathBuf::from("/etc/openstack"));
    dirs.dedup();
    dirs
}

fn first_existing(
    env_var: Option<String>,
    stem: &str,
    dirs: &[PathBuf],
    searched: &mut Vec<PathBuf>,
) -> Option<PathBuf> {
    if let Some(p) = env_var.filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        searched.push(p.clone());
        return p.is_file().then_some(p);
    }
    for d in dirs {
        for ext in ["yaml", "yml", "json"] {
            let p = d.join(format!("{stem}.{ext}"));
            searched.push(p.clone());
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Read a clouds.yaml-shaped file (YAML or JSON) into its `clouds` map; errors name the file
/// and the line. A file without a `clouds:` section has no clouds.
pub fn read_clouds_file(path: &Path) -> Result<BTreeMap<String, Value>> {
    let text = read_settings_text(path)?;
    clouds_in(path, &text, false)
}

/// A settings file as text: a regular file, at most [`crate::safe_fs::MAX_SETTINGS_FILE`],
/// UTF-8.
pub fn read_settings_text(path: &Path) -> Result<String> {
    let fail = |detail: String| Error::File { path: path.display().to_string(), detail };
    let bytes =
        crate::safe_fs::read_capped(path, crate::safe_fs::MAX_SETTINGS_FILE).map_err(|e| fail(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| fail("it is not text (not UTF-8)".into()))
}

/// How many values a YAML document may expand to, aliases included: real clouds.yaml files
/// hold hundreds; a few hundred KiB of nested aliases (a "billion laughs") would otherwise
/// expand to billions and exhaust memory.
pub const YAML_NODE_BUDGET: usize = 100_000;

/// YAML (or JSON) text as a JSON value, refusing a document that expands past
/// [`YAML_NODE_BUDGET`] values. The count is kept while the document is read, so the
/// expansion stops there rather than after it.
pub fn yaml_value(text: &str) -> std::result::Result<Value, serde_yaml_ng::Error> {
    use serde::de::DeserializeSeed;
    let budget = std::cell::Cell::new(YAML_NODE_BUDGET);
    Budgeted(&budget).deserialize(serde_yaml_ng::Deserializer::from_str(text))
}

struct Budgeted<'a>(&'a std::cell::Cell<usize>);

impl Budgeted<'_> {
    fn spend<E: serde::de::Error>(&self) -> std::result::Result<(), E> {
        match self.0.get() {
            0 => Err(E::custom(format!(
                "it expands to more than {YAML_NODE_BUDGET} values (aliases repeating aliases?); not a clouds.yaml"
            ))),
            n => {
                self.0.set(n - 1);
                Ok(())
            }
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Budgeted<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Budgeted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        self.spend()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Budgeted(self.0))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        self.spend()?;
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.spend()?;
            out.insert(k, map.next_value_seed(Budgeted(self.0))?);
        }
        Ok(Value::Object(out))
    }
}

/// A clouds.yaml-shaped text into its `clouds` map; errors name the file and the line.
pub fn parse_clouds_text(path: &Path, text: &str) -> Result<BTreeMap<String, Value>> {
    clouds_in(path, text, true)
}

/// The text parsed once; without a `clouds:` section it has no clouds, or (`required`) is
/// refused as not a clouds.yaml.
fn clouds_in(path: &Path, text: &str, required: bool) -> Result<BTreeMap<String, Value>> {
    let file_err = |detail: String| Error::File { path: path.display().to_string(), detail };
    let doc: Value = yaml_value(text).map_err(|e| match e.location() {
        Some(l) => Error::File {
            path: format!("{}:{}", path.display(), l.line()),
            detail: format!("not valid YAML or JSON: {}", first_clause(&e.to_string())),
        },
        None => file_err(format!("not valid YAML or JSON: {e}")),
    })?;
    match doc.get("clouds") {
        Some(Value::Object(m)) => {
            for (name, v) in m {
                if !v.is_object() {
                    return Err(Error::File {
                        path: located(path, text, name),
                        detail: format!("cloud '{name}' is not a mapping"),
                    });
                }
            }
            Ok(m.clone().into_iter().collect())
        }
        Some(Value::Null) => Ok(BTreeMap::new()),
        Some(_) => Err(file_err("'clouds' is not a mapping of cloud names to settings".into())),
        None if doc.is_null() || !required => Ok(BTreeMap::new()),
        None => Err(file_err("there is no 'clouds:' section (is this a clouds.yaml?)".into())),
    }
}

fn first_clause(s: &str) -> String {
    // serde_yaml's message repeats the position at its end; keep the words.
    s.split(" at line ").next().unwrap_or(s).to_owned()
}

/// `path:line` of the line that starts cloud `name`'s entry, or just the path.
pub(crate) fn located(path: &Path, text: &str, name: &str) -> String {
    let keys = [format!("{name}:"), format!("\"{name}\":"), format!("'{name}':")];
    match text.lines().position(|l| keys.iter().any(|k| l.trim_start().starts_with(k.as_str()))) {
        Some(i) => format!("{}:{}", path.display(), i + 1),
        None => path.display().to_string(),
    }
}

impl CloudFiles {
    /// Find and read clouds.yaml and secure.yaml (`OS_CLIENT_CONFIG_FILE` /
    /// `OS_CLIENT_SECURE_FILE` first), merging secure.yaml into clouds.yaml as openstacksdk does.
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<CloudFiles> {
        let dirs = search_dirs();
        let mut searched = Vec::new();
        let clouds_file = first_existing(env("OS_CLIENT_CONFIG_FILE"), "clouds", &dirs, &mut searched);
        let secure_file = first_existing(env("OS_CLIENT_SECURE_FILE"), "secure", &dirs, &mut Vec::new());
        let mut clouds = match &clouds_file {
            Some(p) => read_clouds_file(p)?,
            None => BTreeMap::new(),
        };
        if let Some(p) = &secure_file {
            for (name, secret) in read_clouds_file(p)? {
                let entry = clouds.entry(name).or_insert_with(|| json!({}));
                merge(entry, &secret);
            }
        }
        Ok(CloudFiles { clouds_file, secure_file, searched, clouds })
    }
}

/// Deep-merge `over` into `base` (maps merge, anything else replaces).
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Fill only what `base` lacks.
fn fill(base: &mut Value, defaults: &Value) {
    if let (Value::Object(b), Value::Object(d)) = (base, defaults) {
        for (k, v) in d {
            match b.get_mut(k) {
                None | Some(Value::Null) => {
                    b.insert(k.clone(), v.clone());
                }
                Some(existing) => fill(existing, v),
            }
        }
    }
}

/// `OS_*` variables as a clouds.yaml entry (openstackclient's `envvars` cloud).
pub fn env_cloud(env: &dyn Fn(&str) -> Option<String>) -> Value {
    let get = |names: &[&str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
    let mut auth = Map::new();
    for (key, names) in [
        ("auth_url", &["OS_AUTH_URL"][..]),
        ("username", &["OS_USERNAME"]),
        ("user_id", &["OS_USER_ID"]),
        ("password", &["OS_PASSWORD"]),
        ("project_name", &["OS_PROJECT_NAME", "OS_TENANT_NAME"]),
        ("project_id", &["OS_PROJECT_ID", "OS_TENANT_ID"]),
        ("user_domain_name", &["OS_USER_DOMAIN_NAME"]),
        ("user_domain_id", &["OS_USER_DOMAIN_ID"]),
        ("project_domain_name", &["OS_PROJECT_DOMAIN_NAME"]),
        ("project_domain_id", &["OS_PROJECT_DOMAIN_ID"]),
        ("default_domain_id", &["OS_DEFAULT_DOMAIN_ID", "OS_DEFAULT_DOMAIN"]),
        ("default_domain_name", &["OS_DEFAULT_DOMAIN_NAME"]),
        ("application_credential_id", &["OS_APPLICATION_CREDENTIAL_ID"]),
        ("application_credential_name", &["OS_APPLICATION_CREDENTIAL_NAME"]),
        ("application_credential_secret", &["OS_APPLICATION_CREDENTIAL_SECRET"]),
        ("token", &["OS_TOKEN"]),
    ] {
        if let Some(v) = get(names) {
            auth.insert(key.into(), json!(v));
        }
    }
    let mut cloud = Map::new();
    if !auth.is_empty() {
        cloud.insert("auth".into(), Value::Object(auth));
    }
    for (key, names) in [
        ("auth_type", &["OS_AUTH_TYPE"][..]),
        ("region_name", &["OS_REGION_NAME"]),
        ("interface", &["OS_INTERFACE", "OS_ENDPOINT_TYPE"]),
        ("identity_api_version", &["OS_IDENTITY_API_VERSION"]),
        ("cacert", &["OS_CACERT"]),
        ("cert", &["OS_CERT"]),
        ("key", &["OS_KEY"]),
        ("image_endpoint_override", &["OS_IMAGE_ENDPOINT_OVERRIDE", "OS_IMAGE_URL"]),
    ] {
        if let Some(v) = get(names) {
            cloud.insert(key.into(), json!(v));
        }
    }
    if let Some(v) = get(&["OS_INSECURE"]) {
        cloud.insert("verify".into(), json!(!matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")));
    }
    Value::Object(cloud)
}

/// Pick and build the cloud: `name` (or `OS_CLOUD`) from the files, else the `OS_*` cloud;
/// `overrides` (command-line flags, clouds.yaml-shaped) win over both.
pub fn resolve(name: Option<&str>, overrides: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Cloud> {
    let name = name.map(str::to_owned).or_else(|| env("OS_CLOUD").filter(|s| !s.is_empty()));
    let from_env = env_cloud(env);
    let (label, mut entry) = match &name {
        Some(n) => {
            let files = CloudFiles::load(env)?;
            let mut entry = files.clouds.get(n).cloned().ok_or_else(|| {
                let where_ = match &files.clouds_file {
                    Some(p) => format!("{} has {}", p.display(), list_or_none(files.clouds.keys())),
                    None => format!(
                        "no clouds.yaml was found (looked in {})",
                        files.searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                    ),
                };
                Error::Invalid(format!("cloud '{n}' is not configured: {where_}"))
            })?;
            // An openrc sourced on top of clouds.yaml often supplies just the password.
            fill(&mut entry, &from_env);
            (n.clone(), entry)
        }
        None => (String::from("envvars"), from_env),
    };
    merge(&mut entry, overrides);
    if entry.pointer("/auth/auth_url").is_none() {
        return Err(Error::Invalid(
            "no cloud is configured: pass --os-cloud NAME (a cloud in clouds.yaml), or set OS_AUTH_URL and the other OS_* variables (source an openrc file)".into(),
        ));
    }
    cloud_from_entry(&label, &entry)
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        "no clouds".into()
    } else {
        format!("only {}", v.join(", "))
    }
}

/// Turn one (merged) clouds.yaml entry into a [`Cloud`]: read once into the typed
/// [`CloudEntry`], checked there.
pub fn cloud_from_entry(name: &str, e: &Value) -> Result<Cloud> {
    CloudEntry::from_value(name, e)?.resolve(name)
}

#[cfg(test)]
mod tests {

    #[test]
    fn secrets_at_risk_on_the_wire_are_named() {
        use crate::openstack::session::WireWarning;
        let cloud = |auth_url: &str, extra: Value| {
            let mut e = serde_json::json!({"auth": {"auth_url": auth_url, "token": "t"}});
            merge(&mut e, &extra);
            cloud_from_entry("c", &e).unwrap()
        };
        let none = serde_json::json!({});
        assert_eq!(cloud("https://k.example/v3", none.clone()).wire_warnings(), []);
        for local in ["http://127.0.0.1:5000/v3", "http://localhost/v3", "http://[::1]:5000/v3"] {
            assert_eq!(cloud(local, none.clone()).wire_warnings(), [], "{local}");
        }
        assert_eq!(
            cloud("http://u:pw@k.example:5000/v3", none.clone()).wire_warnings(),
            [WireWarning::Plaintext { url: "http://k.example:5000/v3".into() }]
        );
        assert_eq!(
            cloud("https://k.example/v3", serde_json::json!({"verify": false})).wire_warnings(),
            [WireWarning::Unverified]
        );
        let to_glance = serde_json::json!({"image_endpoint_override": "http://g.example:9292"});
        assert_eq!(
            cloud("https://k.example/v3", to_glance).wire_warnings(),
            [WireWarning::Plaintext { url: "http://g.example:9292/".into() }]
        );
    }

    /// A "billion laughs": each list repeats the one before ten times, 10^9 values from a few
    /// hundred bytes. Refused once the budget is spent, quickly and with a clear message;
    /// anchors used as people use them still work.
    #[test]
    fn yaml_alias_bombs_are_refused_within_the_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text += &format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n");
        }
        text += "clouds:\n  c:\n    auth: *a8\n";
        let started = std::time::Instant::now();
        let e = clouds_in(Path::new("bomb.yaml"), &text, true).unwrap_err().to_string();
        assert!(e.contains("expands to more than 100000 values"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        // Wide rather than deep: 20 000 aliases of a 20 000-item list (160 KiB of text) would be
        // 400 million values, within serde_yaml_ng's own limit on alias jumps.
        let wide =
            format!("a: &a [{}]\nb: [{}]\nclouds: {{}}\n", vec!["x"; 20_000].join(", "), vec!["*a"; 20_000].join(", "));
        let started = std::time::Instant::now();
        let e = clouds_in(Path::new("wide.yaml"), &wide, true).unwrap_err().to_string();
        assert!(e.contains("expands to more than 100000 values"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        let shared = "common: &auth\n  auth_url: http://k/v3\n  username: u\nclouds:\n  a:\n    auth: *auth\n  b:\n    auth: *auth\n";
        let clouds = clouds_in(Path::new("shared.yaml"), shared, true).unwrap();
        assert_eq!(clouds["b"]["auth"]["username"], "u");
    }

    use super::*;
    use crate::openstack::catalog::Interface;
    use crate::openstack::identity::{AuthMethod, Domain, Scope, User};

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn openrc_variables_make_a_devstack_cloud() {
        let env = env_of(&[
            ("OS_AUTH_URL", "http://devstack-debug/identity"),
            ("OS_IDENTITY_API_VERSION", "3"),
            ("OS_USERNAME", "admin"),
            ("OS_PASSWORD", "asdf"),
            ("OS_PROJECT_NAME", "admin"),
            ("OS_USER_DOMAIN_NAME", "Default"),
            ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ]);
        let c = resolve(None, &json!({}), &env).unwrap();
        assert_eq!(c.name, "envvars");
        assert_eq!(c.auth_url.as_str(), "http://devstack-debug/identity");
        assert_eq!(
            c.credentials.scope,
            Scope::ProjectName { name: "admin".into(), domain: Domain::Name("Default".into()) }
        );
        match &c.credentials.method {
            AuthMethod::Password { user, password } => {
                assert_eq!(*user, User::Name { name: "admin".into(), domain: Domain::Name("Default".into()) });
                assert_eq!(password.expose(), "asdf");
            }
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn clouds_yaml_with_secure_yaml_and_password_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let clouds = dir.path().join("clouds.yaml");
        let secure = dir.path().join("secure.yaml");
        std::fs::write(&clouds, "clouds:\n  prod:\n    auth:\n      auth_url: https://keystone.example:5000/v3\n      username: bob\n      project_id: p1\n      user_domain_id: default\n    region_name: RegionTwo\n    interface: internalURL\n    image_endpoint_override: http://glance.example:9292\n").unwrap();
        std::fs::write(&secure, "clouds:\n  prod:\n    auth:\n      password: from-secure\n").unwrap();
        let (c, s) = (clouds.to_str().unwrap().to_owned(), secure.to_str().unwrap().to_owned());
        let env = env_of(&[("OS_CLIENT_CONFIG_FILE", &c), ("OS_CLIENT_SECURE_FILE", &s), ("OS_PASSWORD", "from-env")]);
        let cloud = resolve(Some("prod"), &json!({}), &env).unwrap();
        assert_eq!(cloud.region.as_deref(), Some("RegionTwo"));
        assert_eq!(cloud.interface, Interface::Internal);
        assert_eq!(cloud.credentials.scope, Scope::ProjectId("p1".into()));
        assert_eq!(cloud.image_endpoint_override.unwrap().as_str(), "http://glance.example:9292/");
        match cloud.credentials.method {
            // secure.yaml's password wins over OS_PASSWORD, which only fills gaps.
            AuthMethod::Password { password, .. } => assert_eq!(password.expose(), "from-secure"),
            m => panic!("{m:?}"),
        }
        // A flag overrides everything.
        let cloud = resolve(Some("prod"), &json!({"region_name": "RegionOne"}), &env).unwrap();
        assert_eq!(cloud.region.as_deref(), Some("RegionOne"));
        // An unknown cloud names the file and what it has.
        let e = resolve(Some("staging"), &json!({}), &env).unwrap_err().to_string();
        assert!(e.contains("cloud 'staging' is not configured") && e.contains("only prod"), "{e}");
    }

    #[test]
    fn application_credential_is_detected_and_unscoped() {
        let entry = json!({"auth": {"auth_url": "http://k/v3", "application_credential_id": "ac",
            "application_credential_secret": "s"}});
        let c = cloud_from_entry("x", &entry).unwrap();
        assert!(
            matches!(c.credentials.method, AuthMethod::ApplicationCredential { ref id, .. } if id.as_deref() == Some("ac"))
        );
        assert_eq!(c.credentials.scope, Scope::Unscoped);
    }

    #[test]
    fn clear_errors_for_incomplete_settings() {
        let e = resolve(None, &json!({}), &env_of(&[])).unwrap_err().to_string();
        assert!(e.contains("no cloud is configured"), "{e}");
        let e = cloud_from_entry("x", &json!({"auth": {"auth_url": "http://k/v3", "username": "u", "password": "p"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a domain"), "{e}");
        let e = cloud_from_entry("x", &json!({"auth_type": "v3oidcpassword", "auth": {"auth_url": "http://k"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported"), "{e}");
        let e = cloud_from_entry("x", &json!({"identity_api_version": 2, "auth": {"auth_url": "http://k"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Keystone v3 is required"), "{e}");
    }

    #[test]
    fn default_domain_fills_both_domains() {
        let entry = json!({"auth": {"auth_url": "http://k/v3", "username": "u", "password": "p",
            "project_name": "pr", "default_domain_id": "default"}});
        let c = cloud_from_entry("x", &entry).unwrap();
        assert_eq!(c.credentials.scope, Scope::ProjectName { name: "pr".into(), domain: Domain::Id("default".into()) });
    }
}
