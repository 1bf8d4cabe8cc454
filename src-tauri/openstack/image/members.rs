//! Sharing: an image's members (`/v2/images/{id}/members`). The owner adds and removes
//! projects; a member project accepts, rejects or leaves pending an image shared with it.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::api::{image_path, segment, Images};
use crate::openstack::error::{Error, Result};

/// One project an image is shared with, as Glance returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub image_id: String,
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub schema: Option<String>,
}

/// The member statuses a member project may set.
pub const STATUSES: &[&str] = &["accepted", "pending", "rejected"];

impl Member {
    fn from_value(v: Value, url: &str) -> Result<Member> {
        Member::deserialize(&v)
            .map_err(|e| Error::BadResponse { url: url.to_owned(), detail: format!("not an image member ({e})") })
    }

    /// openstackclient's fields, in its (alphabetical) order.
    pub fn fields(&self) -> Vec<(String, Value)> {
        let m: Map<String, Value> = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut f: Vec<(String, Value)> = m.into_iter().collect();
        f.sort_by(|a, b| a.0.cmp(&b.0));
        f
    }
}

impl Images<'_> {
    fn members_path(&self, image_id: &str, member: Option<&str>) -> Result<String> {
        let base = image_path(image_id, "/members")?;
        Ok(match member {
            Some(m) => format!("{base}/{}", segment(m)?),
            None => base,
        })
    }

    /// Glance refuses member calls on an image that is not `shared` with a bare 403 ("Not
    /// allowed to create members for image …"); say why, when that is why.
    async fn explain(&self, e: Error, image_id: &str) -> Error {
        if !matches!(e, Error::Api { status: 403, .. }) {
            return e;
        }
        match self.get(image_id).await {
            Ok(img) if img.visibility.as_deref() != Some("shared") => Error::Invalid(format!(
                "image {image_id} is '{}': only a shared image has members (make it shared first: \
                 image set --shared {image_id})",
                img.visibility.as_deref().unwrap_or("?")
            )),
            _ => e,
        }
    }

    /// `GET …/members`.
    pub async fn members(&self, image_id: &str) -> Result<Vec<Member>> {
        let path = self.members_path(image_id, None)?;
        let v = self.call_json(Method::GET, &path, None).await;
        let v = match v {
            Ok(v) => v,
            Err(e) => return Err(self.explain(e, image_id).await),
        };
        v.get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|m| Member::from_value(m.clone(), &path))
            .collect()
    }

    /// `GET …/members/{project}`.
    pub async fn member(&self, image_id: &str, project_id: &str) -> Result<Member> {
        let path = self.members_path(image_id, Some(project_id))?;
        let v = self.call_json(Method::GET, &path, None).await;
        let v = match v {
            Ok(v) => v,
            Err(e) => return Err(self.explain(e, image_id).await),
        };
        Member::from_value(v, &path)
    }

    /// `POST …/members`: share the image with a project (its status starts `pending`).
    pub async fn add_member(&self, image_id: &str, project_id: &str) -> Result<Member> {
        let path = self.members_path(image_id, None)?;
        let body = json!({ "member": project_id });
        let v = self.call_json(Method::POST, &path, Some(("application/json", body))).await;
        let v = match v {
            Ok(v) => v,
            Err(e) => return Err(self.explain(e, image_id).await),
        };
        Member::from_value(v, &path)
    }

    /// `DELETE …/members/{project}`.
    pub async fn remove_member(&self, image_id: &str, project_id: &str) -> Result<()> {
        let path = self.members_path(image_id, Some(project_id))?;
        match self.call(Method::DELETE, &path, None).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.explain(e, image_id).await),
        }
    }

    /// `PUT …/members/{project}` with a new status (a member accepting or rejecting).
    pub async fn set_member_status(&self, image_id: &str, project_id: &str, status: &str) -> Result<Member> {
        if !STATUSES.contains(&status) {
            return Err(Error::Invalid(format!("'{status}' is not a member status (one of {})", STATUSES.join(", "))));
        }
        let path = self.members_path(image_id, Some(project_id))?;
        let v = self.call_json(Method::PUT, &path, Some(("application/json", json!({ "status": status })))).await;
        let v = match v {
            Ok(v) => v,
            Err(e) => return Err(self.explain(e, image_id).await),
        };
        Member::from_value(v, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_reads_glances_answer_and_lists_its_fields_in_order() {
        let v = json!({"created_at": "2026-11-28T10:00:00Z", "image_id": "i", "member_id": "p",
            "schema": "/v2/schemas/member", "status": "pending", "updated_at": "2026-11-28T10:00:00Z"});
        let m = Member::from_value(v, "-").unwrap();
        let keys: Vec<String> = m.fields().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["created_at", "image_id", "member_id", "schema", "status", "updated_at"]);
        assert!(Member::from_value(json!({"x": 1}), "u").unwrap_err().to_string().contains("not an image member"));
    }
}
