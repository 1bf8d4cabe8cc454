//! One cloud's settings as clouds.yaml spells them, typed: the one model every source of
//! settings ends in. clouds.yaml (+ secure.yaml), the `OS_*` environment, `--os-*` flags and
//! Stackdrop's own profiles are merged as clouds.yaml-shaped values first, then read into a
//! [`CloudEntry`] once; [`CloudEntry::resolve`] is the only place where a cloud's settings
//! are checked and its auth type inferred.
//!
//! Spellings openstacksdk accepts are folded here too: `tenant_name`/`tenant_id` for the
//! project, `endpoint_type` for `interface`, numbers where strings are meant
//! (`identity_api_version: 3`), `verify: "false"`, blank values as absent.

use std::path::PathBuf;

use reqwest::Url;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::error::{Error, Result};
use crate::openstack::catalog::Interface;
use crate::openstack::http::{Timeouts, TlsOptions};
use crate::openstack::identity::{AuthMethod, Credentials, Domain, Scope, User};
use crate::openstack::{Cloud, Secret};

/// Upload defaults a profile may carry (the app's form starts from them; CLI flags win).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_format: Option<String>,
    /// Convert raw disks into this format on the way (only their data is sent); files of any
    /// other format upload as they are. Not for clouds that want raw (Ceph copy-on-write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convert: Option<crate::convert::Format>,
}

impl UploadDefaults {
    pub fn is_empty(&self) -> bool {
        self.visibility.is_none() && self.disk_format.is_none() && self.convert.is_none()
    }
}

/// How a cloud authenticates, with the clouds.yaml spelling of each (and the aliases
/// keystoneauth accepts when reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AuthType {
    #[default]
    #[serde(rename = "password")]
    Password,
    #[serde(rename = "v3applicationcredential")]
    ApplicationCredential,
    #[serde(rename = "token")]
    Token,
}

impl AuthType {
    pub fn parse(s: &str) -> Option<AuthType> {
        match s {
            "password" | "v3password" => Some(AuthType::Password),
            "v3applicationcredential" | "applicationcredential" | "application_credential" => {
                Some(AuthType::ApplicationCredential)
            }
            "token" | "v3token" => Some(AuthType::Token),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Password => "password",
            AuthType::ApplicationCredential => "v3applicationcredential",
            AuthType::Token => "token",
        }
    }

    /// The clouds.yaml `auth` key that holds this method's secret.
    pub fn secret_key(self) -> &'static str {
        match self {
            AuthType::Password => "password",
            AuthType::ApplicationCredential => "application_credential_secret",
            AuthType::Token => "token",
        }
    }

    /// The `OS_*` variable that carries this method's secret.
    pub fn secret_env(self) -> &'static str {
        match self {
            AuthType::Password => "OS_PASSWORD",
            AuthType::ApplicationCredential => "OS_APPLICATION_CREDENTIAL_SECRET",
            AuthType::Token => "OS_TOKEN",
        }
    }

    /// The secret in plain English words, for messages.
    pub fn secret_words(self) -> &'static str {
        match self {
            AuthType::Password => "password",
            AuthType::ApplicationCredential => "application credential secret",
            AuthType::Token => "token",
        }
    }

    /// The catalogue key of [`AuthType::secret_words`], for the front ends' prompts.
    pub fn secret_label_key(self) -> &'static str {
        match self {
            AuthType::Password => "secret.password",
            AuthType::ApplicationCredential => "secret.appcred",
            AuthType::Token => "secret.token",
        }
    }
}

impl<'de> Deserialize<'de> for AuthType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<AuthType, D::Error> {
        let s = String::deserialize(d)?;
        AuthType::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "auth_type '{s}' is not supported (use password, v3applicationcredential or token)"
            ))
        })
    }
}

/// clouds.yaml `verify`: a boolean, or a string openstacksdk reads as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verify(pub bool);

impl<'de> Deserialize<'de> for Verify {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Verify, D::Error> {
        Ok(Verify(match Value::deserialize(d)? {
            Value::Bool(b) => b,
            Value::String(s) => !matches!(s.to_ascii_lowercase().as_str(), "false" | "0" | "no"),
            _ => true,
        }))
    }
}

impl Serialize for Verify {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

/// Secrets are read from a clouds.yaml/secure.yaml but never written back by serialising an
/// entry: whoever exports one adds the secret on purpose (see `Profile::export_entry`).
fn secret<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// The `auth:` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_domain_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "tenant_name")]
    pub project_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "tenant_id")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_domain_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_domain_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_credential_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_credential_name: Option<String>,
    #[serde(skip_serializing, deserialize_with = "secret")]
    pub password: Option<Secret>,
    #[serde(skip_serializing, deserialize_with = "secret")]
    pub application_credential_secret: Option<Secret>,
    #[serde(skip_serializing, deserialize_with = "secret")]
    pub token: Option<Secret>,
}

/// One cloud entry: the keys that matter for identity and the image service. Other keys
/// (other services' settings) are ignored when reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<AuthType>,
    pub auth: AuthSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "endpoint_type")]
    pub interface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_endpoint_override: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    /// openstackclient's `insecure: true`, the same as `verify: false`.
    #[serde(skip_serializing)]
    pub insecure: Option<bool>,
    /// Stackdrop's own upload defaults (profiles only).
    #[serde(rename = "stackdrop", skip_serializing_if = "Option::is_none")]
    pub defaults: Option<UploadDefaults>,
}

/// Old and new spellings of the same key: when both are given, the new one wins.
const ALIASES: &[(&str, &str)] =
    &[("tenant_name", "project_name"), ("tenant_id", "project_id"), ("endpoint_type", "interface")];
const SECRET_KEYS: &[&str] = &["password", "application_credential_secret", "token"];

/// Blank or null values are absent; numbers are text; other settings' text is trimmed (a
/// secret is taken as it is); an alias gives way to the key it stands for.
fn tidy(v: &mut Value) {
    let Value::Object(m) = v else { return };
    for (old, new) in ALIASES {
        if m.get(*new).is_some_and(|v| !is_blank(v)) {
            m.remove(*old);
        }
    }
    m.retain(|_, v| !is_blank(v));
    for (k, v) in m.iter_mut() {
        match v {
            Value::Number(n) => *v = Value::String(n.to_string()),
            Value::String(s) if !SECRET_KEYS.contains(&k.as_str()) => *s = s.trim().to_owned(),
            Value::Object(_) => tidy(v),
            _ => {}
        }
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

impl CloudEntry {
    /// Read a (merged) clouds.yaml-shaped value. `name` is for the message.
    pub fn from_value(name: &str, v: &Value) -> Result<CloudEntry> {
        let mut v = v.clone();
        tidy(&mut v);
        CloudEntry::deserialize(&v).map_err(|e| Error::Invalid(format!("cloud '{name}': {e}")))
    }

    /// The entry as a clouds.yaml value, without its secrets.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The auth type given, or the one the entry implies: an application credential when its
    /// secret or id is there, a token when only a token is, else a password.
    pub fn auth_type(&self) -> AuthType {
        let a = &self.auth;
        self.auth_type.unwrap_or(
            if a.application_credential_secret.is_some() || a.application_credential_id.is_some() {
                AuthType::ApplicationCredential
            } else if a.token.is_some() && a.password.is_none() {
                AuthType::Token
            } else {
                AuthType::Password
            },
        )
    }

    /// The secret the auth type uses, if the entry carries it.
    pub fn secret(&self) -> Option<&Secret> {
        match self.auth_type() {
            AuthType::Password => self.auth.password.as_ref(),
            AuthType::ApplicationCredential => self.auth.application_credential_secret.as_ref(),
            AuthType::Token => self.auth.token.as_ref(),
        }
    }

    /// Give the entry the secret its auth type uses.
    pub fn set_secret(&mut self, secret: Secret) {
        let slot = match self.auth_type() {
            AuthType::Password => &mut self.auth.password,
            AuthType::ApplicationCredential => &mut self.auth.application_credential_secret,
            AuthType::Token => &mut self.auth.token,
        };
        *slot = Some(secret);
    }

    /// Everything but the secret is right (a profile keeps its secret elsewhere).
    pub fn check(&self, name: &str) -> Result<()> {
        self.build(name, false).map(drop)
    }

    /// The cloud these settings describe, checked; the secret must be there.
    pub fn resolve(&self, name: &str) -> Result<Cloud> {
        self.build(name, true)
    }

    fn build(&self, name: &str, need_secret: bool) -> Result<Cloud> {
        let a = &self.auth;
        let missing = |what: &str, key: &str| Error::Invalid(format!("cloud '{name}': {what} is missing (auth.{key})"));
        let auth_url_s = a.auth_url.clone().ok_or_else(|| missing("the auth URL", "auth_url"))?;
        let auth_url = parse_url(&auth_url_s).map_err(|err| {
            Error::Invalid(format!("cloud '{name}': auth_url {:?} is not a URL ({err})", without_userinfo(&auth_url_s)))
        })?;
        if let Some(v) = &self.identity_api_version {
            if !v.starts_with('3') {
                return Err(Error::Invalid(format!(
                    "cloud '{name}': identity_api_version {v} is not supported; Keystone v3 is required"
                )));
            }
        }
        let default_domain =
            a.default_domain_id.clone().map(Domain::Id).or_else(|| a.default_domain_name.clone().map(Domain::Name));
        let domain = |id: &Option<String>, dname: &Option<String>| {
            id.clone().map(Domain::Id).or_else(|| dname.clone().map(Domain::Name)).or_else(|| default_domain.clone())
        };
        let user = || -> Result<Option<User>> {
            if let Some(id) = &a.user_id {
                return Ok(Some(User::Id(id.clone())));
            }
            match &a.username {
                Some(n) => {
                    let d = domain(&a.user_domain_id, &a.user_domain_name).ok_or_else(|| {
                        Error::Invalid(format!(
                            "cloud '{name}': user '{n}' needs a domain (user_domain_name or user_domain_id)"
                        ))
                    })?;
                    Ok(Some(User::Name { name: n.clone(), domain: d }))
                }
                None => Ok(None),
            }
        };
        let secret = |s: &Option<Secret>, what: &str, key: &str| match s {
            Some(s) => Ok(s.clone()),
            None if !need_secret => Ok(Secret::new(String::new())),
            None => Err(missing(what, key)),
        };
        let method = match self.auth_type() {
            AuthType::Password => {
                let user = user()?.ok_or_else(|| Error::Invalid(format!("cloud '{name}': no username or user_id")))?;
                AuthMethod::Password { user, password: secret(&a.password, "the password", "password")? }
            }
            AuthType::ApplicationCredential => {
                let (id, cred_name) = (a.application_credential_id.clone(), a.application_credential_name.clone());
                if id.is_none() && cred_name.is_none() {
                    return Err(Error::Invalid(format!(
                        "cloud '{name}': an application credential needs application_credential_id, or its name and the user"
                    )));
                }
                let user = if id.is_none() { user()? } else { None };
                if id.is_none() && user.is_none() {
                    return Err(Error::Invalid(format!(
                        "cloud '{name}': an application credential given by name needs its user (username + user_domain_name, or user_id)"
                    )));
                }
                let secret = secret(
                    &a.application_credential_secret,
                    "the application credential secret",
                    "application_credential_secret",
                )?;
                AuthMethod::ApplicationCredential { id, name: cred_name, user, secret }
            }
            AuthType::Token => AuthMethod::Token { token: secret(&a.token, "the token", "token")? },
        };
        let scope = if let Some(id) = &a.project_id {
            Scope::ProjectId(id.clone())
        } else if let Some(p) = &a.project_name {
            let d = domain(&a.project_domain_id, &a.project_domain_name).ok_or_else(|| {
                Error::Invalid(format!(
                    "cloud '{name}': project '{p}' needs a domain (project_domain_name or project_domain_id)"
                ))
            })?;
            Scope::ProjectName { name: p.clone(), domain: d }
        } else {
            Scope::Unscoped
        };
        let interface = match &self.interface {
            Some(i) => i.parse::<Interface>().map_err(|e| Error::Invalid(format!("cloud '{name}': {e}")))?,
            None => Interface::Public,
        };
        let image_endpoint_override = match &self.image_endpoint_override {
            Some(u) => Some(parse_url(u).map_err(|err| {
                Error::Invalid(format!(
                    "cloud '{name}': image_endpoint_override {:?} is not a URL ({err})",
                    without_userinfo(u)
                ))
            })?),
            None => None,
        };
        let insecure = self.verify.is_some_and(|v| !v.0) || self.insecure == Some(true);
        let tls = TlsOptions {
            cacert: self.cacert.clone().map(PathBuf::from),
            cert: self.cert.clone().map(PathBuf::from),
            key: self.key.clone().map(PathBuf::from),
            insecure,
        };
        Ok(Cloud {
            name: name.to_owned(),
            auth_url,
            credentials: Credentials { method, scope },
            interface,
            region: self.region_name.clone(),
            image_endpoint_override,
            tls,
            timeouts: Timeouts::default(),
        })
    }
}

/// A URL from the settings, without any `user:password@`: Keystone and Glance take no such
/// credentials, and a URL is shown in messages, so a password there would be shown too.
fn parse_url(s: &str) -> std::result::Result<Url, String> {
    let mut u = Url::parse(s).map_err(|e| e.to_string())?;
    if !u.username().is_empty() || u.password().is_some() {
        tracing::warn!("the user name and password in {} are ignored", without_userinfo(s));
        let _ = u.set_password(None);
        let _ = u.set_username("");
    }
    Ok(u)
}

/// `scheme://user:password@host/…` -> `scheme://host/…`, for messages about text that may not
/// even parse as a URL.
pub fn without_userinfo(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else { return s.to_owned() };
    let authority_end = s[start..].find(['/', '?', '#']).map_or(s.len(), |i| start + i);
    match s[start..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &s[..start], &s[start + at + 1..]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_password_in_a_url_is_never_kept_or_shown() {
        assert_eq!(without_userinfo("http://u:hunter2@k.example:5000/v3"), "http://k.example:5000/v3");
        assert_eq!(without_userinfo("http://k/v3?a=b@c"), "http://k/v3?a=b@c");
        assert_eq!(without_userinfo("not a url"), "not a url");
        let entry = |url: &str| {
            let v = serde_json::json!({"auth": {"auth_url": url, "token": "t"}});
            CloudEntry::from_value("c", &v).unwrap()
        };
        let c = entry("http://u:hunter2@k.example:5000/v3").resolve("c").unwrap();
        assert_eq!(c.auth_url.as_str(), "http://k.example:5000/v3");
        let e = entry("http://u:hunter2@[bad/v3").resolve("c").unwrap_err().to_string();
        assert!(e.contains("is not a URL") && !e.contains("hunter2"), "{e}");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn spellings_fold_into_one_entry() {
        let e = CloudEntry::from_value(
            "c",
            &json!({"auth": {"auth_url": " http://k/v3 ", "tenant_name": "demo", "username": "u", "password": " pw ",
                             "user_domain_name": "Default", "project_domain_id": ""},
                    "endpoint_type": "internalURL", "identity_api_version": 3, "verify": "no",
                    "compute_api_version": "2.1", "region_name": null}),
        )
        .unwrap();
        assert_eq!(e.auth.auth_url.as_deref(), Some("http://k/v3"), "trimmed");
        assert_eq!(e.auth.project_name.as_deref(), Some("demo"));
        assert_eq!(e.auth.password.as_ref().unwrap().expose(), " pw ", "a secret is taken as it is");
        assert_eq!(e.auth.project_domain_id, None, "blank is absent");
        assert_eq!(e.interface.as_deref(), Some("internalURL"));
        assert_eq!(e.identity_api_version.as_deref(), Some("3"));
        assert_eq!(e.verify, Some(Verify(false)));
        assert_eq!(e.region_name, None);
        // Both spellings: the current one wins, no duplicate-key error.
        let e = CloudEntry::from_value("c", &json!({"auth": {"tenant_id": "old", "project_id": "new"}})).unwrap();
        assert_eq!(e.auth.project_id.as_deref(), Some("new"));
        // No secret is ever serialised.
        let out = CloudEntry::from_value("c", &json!({"auth": {"token": "t0k", "password": "pw"}})).unwrap().to_value();
        assert!(!out.to_string().contains("t0k") && !out.to_string().contains("pw"), "{out}");
    }

    #[test]
    fn auth_type_is_inferred_in_one_place() {
        let t = |auth: Value| CloudEntry::from_value("c", &json!({ "auth": auth })).unwrap().auth_type();
        assert_eq!(t(json!({"application_credential_secret": "s"})), AuthType::ApplicationCredential);
        assert_eq!(t(json!({"application_credential_id": "i"})), AuthType::ApplicationCredential);
        assert_eq!(t(json!({"token": "t"})), AuthType::Token);
        assert_eq!(t(json!({"token": "t", "password": "p"})), AuthType::Password);
        assert_eq!(t(json!({})), AuthType::Password);
        let e = CloudEntry::from_value("c", &json!({"auth_type": "v3token", "auth": {"password": "p"}})).unwrap();
        assert_eq!(e.auth_type(), AuthType::Token);
        let err = CloudEntry::from_value("c", &json!({"auth_type": "v3oidcpassword"})).unwrap_err().to_string();
        assert!(err.starts_with("cloud 'c': auth_type 'v3oidcpassword' is not supported"), "{err}");
    }

    #[test]
    fn check_wants_everything_but_the_secret_and_resolve_wants_it_too() {
        let e = CloudEntry::from_value(
            "c",
            &json!({"auth": {"auth_url": "http://k/v3", "username": "u", "user_domain_name": "Default", "project_id": "p"}}),
        )
        .unwrap();
        e.check("c").unwrap();
        assert_eq!(e.resolve("c").unwrap_err().to_string(), "cloud 'c': the password is missing (auth.password)");
        let mut with = e.clone();
        with.set_secret(Secret::new("pw".into()));
        assert!(with.resolve("c").is_ok());
        assert_eq!(with.secret().map(Secret::expose), Some("pw"));
        with.auth.password = None;
        assert_eq!(with, e, "set_secret filled the password and nothing else");
    }
}
