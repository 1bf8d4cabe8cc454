//! The rest of what people do with an image once it exists: tags, deactivation, the data
//! (download), the cloud's stores, its import tasks, and the image schema that says what is
//! editable.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use super::api::{image_path, segment, Images};
use crate::openstack::error::{Error, Result};

/// A store of a multi-store Glance (`/v2/info/stores`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Store {
    pub id: String,
    pub description: Option<String>,
    pub is_default: bool,
    /// With `detail` (admin only): the store's type and properties.
    pub properties: Option<Value>,
}

impl Images<'_> {
    /// `PUT …/tags/{tag}` (adding one that is there already is not an error).
    pub async fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        let path = format!("{}/{}", image_path(id, "/tags")?, segment(tag)?);
        self.call(Method::PUT, &path, None).await.map(drop)
    }

    /// `DELETE …/tags/{tag}`; Glance answers 404 when the image has no such tag.
    pub async fn remove_tag(&self, id: &str, tag: &str) -> Result<()> {
        let path = format!("{}/{}", image_path(id, "/tags")?, segment(tag)?);
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `POST …/actions/deactivate` (admin, by default policy): the data cannot be downloaded
    /// or booted until reactivated.
    pub async fn deactivate(&self, id: &str) -> Result<()> {
        self.call(Method::POST, &image_path(id, "/actions/deactivate")?, None).await.map(drop)
    }

    /// `POST …/actions/reactivate`.
    pub async fn reactivate(&self, id: &str) -> Result<()> {
        self.call(Method::POST, &image_path(id, "/actions/reactivate")?, None).await.map(drop)
    }

    /// `GET …/file`, from byte `from` on (`Range: bytes=from-`; Glance answers 206 with a
    /// `Content-Range`, or 200 with the whole image when it ignores the range). 204 means the
    /// image has no data.
    pub async fn download(&self, id: &str, from: u64) -> Result<reqwest::Response> {
        let path = image_path(id, "/file")?;
        if from == 0 {
            return self.call(Method::GET, &path, None).await;
        }
        self.call_headers(Method::GET, &path, &[("Range", format!("bytes={from}-"))]).await
    }

    /// The stores this cloud offers, with their descriptions; `detail` asks for the admin view
    /// (`/v2/info/stores/detail`). A Glance without multi-store answers 404: none.
    pub async fn stores_info(&self, detail: bool) -> Result<Option<Vec<Store>>> {
        let path = if detail { "/v2/info/stores/detail" } else { "/v2/info/stores" };
        let v = match self.call_json(Method::GET, path, None).await {
            Ok(v) => v,
            Err(Error::Api { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let stores = v
            .get("stores")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some(Store {
                    id: s.get("id")?.as_str()?.to_owned(),
                    description: s.get("description").and_then(Value::as_str).map(str::to_owned),
                    // Glance 33 says `"default": "true"` (a string); accept a boolean too.
                    is_default: matches!(s.get("default"), Some(Value::Bool(true)))
                        || s.get("default") == Some(&Value::from("true")),
                    properties: detail.then(|| {
                        let mut p = s.get("properties").cloned().unwrap_or(Value::Object(Map::new()));
                        if let (Value::Object(m), Some(t)) = (&mut p, s.get("type")) {
                            m.insert("type".into(), t.clone());
                        }
                        p
                    }),
                })
            })
            .collect();
        Ok(Some(stores))
    }

    /// `GET /v2/schemas/image`: the attributes an image has, which the caller may not change
    /// (`readOnly`), and the allowed values (`enum`) of those that have a fixed set.
    pub async fn schema(&self) -> Result<Value> {
        self.call_json(Method::GET, "/v2/schemas/image", None).await
    }

    /// `GET /v2/tasks` with Glance's filters (`type`, `status`, `sort_key`, `sort_dir`,
    /// `limit`, `marker`); one page, as openstackclient shows it.
    pub async fn tasks(&self, query: &[(&str, &str)]) -> Result<Vec<Map<String, Value>>> {
        let resp = self.call_with(Method::GET, "/v2/tasks", query, None).await?;
        let url = resp.url().to_string();
        let v = crate::openstack::http::read_json(&url, resp).await?;
        Ok(v.get("tasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_object().cloned())
            .collect())
    }

    /// `GET /v2/tasks/{id}`.
    pub async fn task(&self, id: &str) -> Result<Map<String, Value>> {
        let path = format!("/v2/tasks/{}", segment(id)?);
        match self.call_json(Method::GET, &path, None).await? {
            Value::Object(m) => Ok(m),
            other => Err(Error::BadResponse { url: path, detail: format!("not a task: {other}") }),
        }
    }
}

/// A task as openstackclient shows it: its fields, sorted, and an empty `properties` — the SDK
/// it goes through keeps only the attributes it knows, so Glance's other keys (`image_id`,
/// `request_id`, `user_id`) never reach its output; the same command gives the same output
/// here.
pub fn task_fields(t: &Map<String, Value>) -> Vec<(String, Value)> {
    const SHOWN: &[&str] =
        &["created_at", "expires_at", "id", "input", "message", "owner_id", "result", "status", "type", "updated_at"];
    let get = |k: &str| {
        // Glance says `owner`; openstacksdk calls it `owner_id`.
        let key = if k == "owner_id" { "owner" } else { k };
        t.get(key).cloned().unwrap_or(Value::Null)
    };
    let mut f: Vec<(String, Value)> = SHOWN.iter().map(|k| (k.to_string(), get(k))).collect();
    f.push(("properties".into(), Value::Object(Map::new())));
    f.sort_by(|a, b| a.0.cmp(&b.0));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_task_shows_openstackclients_fields() {
        let t = json!({"id": "t", "type": "import", "status": "success", "owner": "p", "input": {"a": 1},
            "image_id": "i", "request_id": "r", "user_id": "u", "self": "/v2/tasks/t", "schema": "/v2/schemas/task"});
        let f = task_fields(t.as_object().unwrap());
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "created_at",
                "expires_at",
                "id",
                "input",
                "message",
                "owner_id",
                "properties",
                "result",
                "status",
                "type",
                "updated_at"
            ]
        );
        let get = |k: &str| f.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("owner_id"), json!("p"));
        assert_eq!(get("properties"), json!({}));
    }
}
