//! Project lookup: `--project NAME` (an image's owner, a member to share with), and the name
//! of an owner for the window.

use reqwest::Method;
use serde_json::Value;

use crate::openstack::error::{Error, Kind, Result, Service};
use crate::openstack::http::join;
use crate::openstack::session::Session;

/// A project id from an id or a name (optionally within a domain, by name or id).
pub async fn resolve_id(s: &Session, name_or_id: &str, domain: Option<&str>) -> Result<String> {
    let v3 = s.identity_url().await?;
    let token = s.token().await?;
    let get = |path: &str, query: &[(&str, &str)]| {
        s.http()
            .request(Method::GET, join(&v3, path).as_str())
            .query(query)
            .header("X-Auth-Token", token.value.expose())
    };
    let by_id = format!("projects/{}", crate::openstack::image::api::segment(name_or_id)?);
    match s.http().json(Service::Identity, get(&by_id, &[])).await {
        Ok(v) => {
            if let Some(id) = v.pointer("/project/id").and_then(Value::as_str) {
                return Ok(id.to_owned());
            }
        }
        Err(Error::Api { status: 404 | 403, .. }) => {}
        Err(e) => return Err(e),
    }
    let domain_id = match domain {
        Some(d) => {
            let v = s.http().json(Service::Identity, get("domains", &[("name", d)])).await?;
            Some(v.pointer("/domains/0/id").and_then(Value::as_str).unwrap_or(d).to_owned())
        }
        None => None,
    };
    let mut query = vec![("name", name_or_id)];
    query.extend(domain_id.as_deref().map(|id| ("domain_id", id)));
    let v = s.http().json(Service::Identity, get("projects", &query)).await.map_err(|e| match e {
        Error::Api { status: 403, .. } => {
            Error::Invalid(format!("you may not look up project '{name_or_id}' by name: give its id to --project"))
        }
        e => e,
    })?;
    let ids: Vec<&str> = v
        .get("projects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("id").and_then(Value::as_str))
        .collect();
    match ids.as_slice() {
        [id] => Ok((*id).to_owned()),
        [] => Err(Error::NotFound { kind: Kind::Project, name: name_or_id.to_owned() }),
        many => Err(Error::Ambiguous { kind: Kind::Project, name: name_or_id.to_owned(), count: many.len() }),
    }
}

/// A project's name, when this user may read the project (an admin, or a member of it); none
/// otherwise.
pub async fn name_of(s: &Session, id: &str) -> Option<String> {
    let v3 = s.identity_url().await.ok()?;
    let token = s.token().await.ok()?;
    let path = format!("projects/{}", crate::openstack::image::api::segment(id).ok()?);
    let req = s.http().request(Method::GET, join(&v3, &path).as_str()).header("X-Auth-Token", token.value.expose());
    let v = s.http().json(Service::Identity, req).await.ok()?;
    v.pointer("/project/name").and_then(Value::as_str).map(str::to_owned)
}
