//! What to create: the fields of `openstack image create`, as the `POST /v2/images` body.

use serde::Serialize;
use serde_json::{json, Map, Value};

/// What to create: the fields of `openstack image create`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ImageSpec {
    pub name: String,
    pub id: Option<String>,
    pub disk_format: String,
    pub container_format: String,
    /// public, private, shared or community; Glance's default (shared) when `None`.
    pub visibility: Option<String>,
    pub min_disk: Option<u64>,
    pub min_ram: Option<u64>,
    /// Set once the image is verified, never at create: a protected image refuses the
    /// DELETE that cleans up a failed upload.
    pub protected: Option<bool>,
    pub tags: Vec<String>,
    pub properties: Vec<(String, String)>,
    /// Project id that will own the image (admin only).
    pub owner: Option<String>,
}

impl ImageSpec {
    /// The JSON-patch operations that finish the image once it is verified: `protected`.
    pub fn finishing_ops(&self) -> Vec<Value> {
        match self.protected {
            Some(true) => vec![json!({"op": "replace", "path": "/protected", "value": true})],
            _ => Vec::new(),
        }
    }

    /// The `POST /v2/images` body (all but `protected`, see [`ImageSpec::finishing_ops`]).
    pub fn create_body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("disk_format".into(), json!(self.disk_format));
        m.insert("container_format".into(), json!(self.container_format));
        let opt = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        opt(&mut m, "id", self.id.as_ref().map(|v| json!(v)));
        opt(&mut m, "visibility", self.visibility.as_ref().map(|v| json!(v)));
        opt(&mut m, "min_disk", self.min_disk.map(|v| json!(v)));
        opt(&mut m, "min_ram", self.min_ram.map(|v| json!(v)));
        opt(&mut m, "owner", self.owner.as_ref().map(|v| json!(v)));
        if !self.tags.is_empty() {
            m.insert("tags".into(), json!(self.tags));
        }
        for (k, v) in &self.properties {
            m.insert(k.clone(), json!(v));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_has_only_what_was_given() {
        let spec = ImageSpec {
            name: "cirros".into(),
            disk_format: "qcow2".into(),
            container_format: "bare".into(),
            visibility: Some("public".into()),
            tags: vec!["a".into()],
            properties: vec![("os_distro".into(), "cirros".into())],
            ..Default::default()
        };
        let want = json!({"name": "cirros", "disk_format": "qcow2", "container_format": "bare",
            "visibility": "public", "tags": ["a"], "os_distro": "cirros"});
        assert_eq!(Value::Object(spec.create_body()), want);
    }
}
