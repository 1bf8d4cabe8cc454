//! What to create and how: the fields of `openstack image create`, the upload's options, and
//! what a finished upload reports.

use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use crate::openstack::image::Image;

use super::import;
use super::{Digests, ProgressFn, WarnFn};

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
    pub protected: Option<bool>,
    pub tags: Vec<String>,
    pub properties: Vec<(String, String)>,
    /// Project id that will own the image (admin only).
    pub owner: Option<String>,
}

impl ImageSpec {
    /// The `POST /v2/images` body.
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
        opt(&mut m, "protected", self.protected.map(|v| json!(v)));
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

#[derive(Clone)]
pub struct UploadOptions {
    /// Leave the image behind when the upload fails (for debugging).
    pub keep_on_failure: bool,
    pub cancel: CancellationToken,
    pub progress: Option<ProgressFn>,
    /// How long to wait for `active` after the bytes are in.
    pub activation_timeout: Duration,
    /// Declare `raw` for data of another format (Glance accepts raw for anything).
    pub force: bool,
    /// Fail (and retry) a PUT when the server accepts no byte for this long.
    pub stall_timeout: Duration,
    /// Upload through Glance's glance-direct import (stage, then import into `stores`)
    /// instead of `PUT …/file`.
    pub import: Option<import::Import>,
    /// Told about risks worth a person's attention (a token that may not last the upload).
    pub on_warning: Option<WarnFn>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            keep_on_failure: false,
            cancel: CancellationToken::new(),
            progress: None,
            activation_timeout: Duration::from_secs(600),
            force: false,
            stall_timeout: Duration::from_secs(60),
            import: None,
            on_warning: None,
        }
    }
}

/// A finished, verified upload.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    #[serde(skip)]
    pub image: Image,
    pub digests: Digests,
    /// The `os_hash_algo` whose value was checked (`None`: Glance used one we do not compute).
    pub verified_os_hash: Option<String>,
    pub upload_secs: f64,
    pub total_secs: f64,
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
