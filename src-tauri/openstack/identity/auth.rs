//! Keystone v3 authentication: `POST /v3/auth/tokens` with the credentials, the token back in
//! the `X-Subject-Token` header and the service catalog in the body.

use reqwest::{Method, Url};
use serde_json::{json, Value};

use super::token::Token;
use crate::openstack::error::{Error, Result, Service};
use crate::openstack::http::{join, Http};
use crate::openstack::secret::Secret;

/// A domain given by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    Id(String),
    Name(String),
}

impl Domain {
    fn to_json(&self) -> Value {
        match self {
            Domain::Id(id) => json!({ "id": id }),
            Domain::Name(name) => json!({ "name": name }),
        }
    }
}

/// A user by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    Id(String),
    Name { name: String, domain: Domain },
}

impl User {
    fn to_json(&self) -> Value {
        match self {
            User::Id(id) => json!({ "id": id }),
            User::Name { name, domain } => json!({ "name": name, "domain": domain.to_json() }),
        }
    }
}

/// How to prove who we are.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    Password {
        user: User,
        password: Secret,
    },
    /// By id, or by name together with its owner.
    ApplicationCredential {
        id: Option<String>,
        name: Option<String>,
        user: Option<User>,
        secret: Secret,
    },
    Token {
        token: Secret,
    },
}

impl AuthMethod {
    pub fn label(&self) -> &'static str {
        match self {
            AuthMethod::Password { .. } => "password",
            AuthMethod::ApplicationCredential { .. } => "application credential",
            AuthMethod::Token { .. } => "token",
        }
    }
}

/// What the token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    ProjectId(String),
    ProjectName {
        name: String,
        domain: Domain,
    },
    /// No scope: application credentials carry their own; otherwise the catalog is empty.
    Unscoped,
}

impl Scope {
    pub fn describe(&self) -> String {
        match self {
            Scope::ProjectId(id) => format!("with id {id}"),
            Scope::ProjectName { name, domain: Domain::Name(d) } => format!("'{name}' (domain '{d}')"),
            Scope::ProjectName { name, domain: Domain::Id(d) } => format!("'{name}' (domain id '{d}')"),
            Scope::Unscoped => String::from("(none)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub method: AuthMethod,
    pub scope: Scope,
}

/// The JSON body of `POST /v3/auth/tokens`. The only place a secret is exposed.
pub fn request_body(c: &Credentials) -> Value {
    let identity = match &c.method {
        AuthMethod::Password { user, password } => {
            let mut u = user.to_json();
            u["password"] = json!(password.expose());
            json!({ "methods": ["password"], "password": { "user": u } })
        }
        AuthMethod::ApplicationCredential { id, name, user, secret } => {
            let mut ac = json!({ "secret": secret.expose() });
            if let Some(id) = id {
                ac["id"] = json!(id);
            } else {
                if let Some(name) = name {
                    ac["name"] = json!(name);
                }
                if let Some(user) = user {
                    ac["user"] = user.to_json();
                }
            }
            json!({ "methods": ["application_credential"], "application_credential": ac })
        }
        AuthMethod::Token { token } => json!({ "methods": ["token"], "token": { "id": token.expose() } }),
    };
    let mut auth = json!({ "identity": identity });
    // Application credentials are bound to their project; Keystone rejects a scope with them.
    if !matches!(c.method, AuthMethod::ApplicationCredential { .. }) {
        match &c.scope {
            Scope::ProjectId(id) => auth["scope"] = json!({ "project": { "id": id } }),
            Scope::ProjectName { name, domain } => {
                auth["scope"] = json!({ "project": { "name": name, "domain": domain.to_json() } })
            }
            Scope::Unscoped => {}
        }
    }
    json!({ "auth": auth })
}

/// `POST {v3}/auth/tokens`; the token comes from `X-Subject-Token`, the rest from the body.
pub async fn authenticate(http: &Http, v3: &Url, creds: &Credentials) -> Result<Token> {
    match post_tokens(http, v3, creds).await {
        Err(Error::Api { status: 401, .. }) => {
            // Wrong password and unknown project both answer 401. If the same credentials
            // work without a scope, the project is what is wrong: say so.
            if let (AuthMethod::Password { .. }, Scope::ProjectId(_) | Scope::ProjectName { .. }) =
                (&creds.method, &creds.scope)
            {
                let unscoped = Credentials { method: creds.method.clone(), scope: Scope::Unscoped };
                if post_tokens(http, v3, &unscoped).await.is_ok() {
                    return Err(Error::ProjectNotFound { project: creds.scope.describe(), auth_url: v3.to_string() });
                }
            }
            Err(Error::AuthFailed { auth_url: v3.to_string(), method: creds.method.label() })
        }
        // Keystone answers an unknown application credential id with 404 ("Could not find
        // Application Credential"): for the person, that is a refused credential.
        Err(Error::Api { status: 404, .. }) if matches!(creds.method, AuthMethod::ApplicationCredential { .. }) => {
            Err(Error::AuthFailed { auth_url: v3.to_string(), method: creds.method.label() })
        }
        other => other,
    }
}

async fn post_tokens(http: &Http, v3: &Url, creds: &Credentials) -> Result<Token> {
    let url = join(v3, "auth/tokens");
    let req = http.request(Method::POST, url.as_str()).json(&request_body(creds));
    let resp = http.send_repeatable(Service::Identity, req).await?;
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| Error::BadResponse { url: url.to_string(), detail: "no X-Subject-Token header".into() })?;
    let body = crate::openstack::http::read_json(url.as_str(), resp).await?;
    Token::from_response(Secret::new(token), &body)
        .map_err(|detail| Error::BadResponse { url: url.to_string(), detail })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_body_matches_openstackclients() {
        let c = Credentials {
            method: AuthMethod::Password {
                user: User::Name { name: "admin".into(), domain: Domain::Name("Default".into()) },
                password: Secret::new("asdf".into()),
            },
            scope: Scope::ProjectName { name: "admin".into(), domain: Domain::Name("Default".into()) },
        };
        let want = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "password": "asdf", "name": "admin", "domain": {"name": "Default"}}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}});
        assert_eq!(request_body(&c), want);
    }

    #[test]
    fn application_credential_has_no_scope() {
        let c = Credentials {
            method: AuthMethod::ApplicationCredential {
                id: None,
                name: Some("ci".into()),
                user: Some(User::Id("u1".into())),
                secret: Secret::new("s".into()),
            },
            scope: Scope::ProjectId("p".into()),
        };
        let want = json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"name": "ci", "user": {"id": "u1"}, "secret": "s"}}}});
        assert_eq!(request_body(&c), want);
    }

    #[test]
    fn token_method_with_project_id() {
        let c = Credentials {
            method: AuthMethod::Token { token: Secret::new("t".into()) },
            scope: Scope::ProjectId("p".into()),
        };
        let want = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "t"}},
            "scope": {"project": {"id": "p"}}}});
        assert_eq!(request_body(&c), want);
    }
}
