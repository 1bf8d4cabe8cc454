//! Changing an image's metadata: what the person asked for, compared with the image as it is,
//! becomes one JSON-patch (`application/openstack-images-v2.1-json-patch`) holding only what
//! changes — `image set`, `image unset` and the window's editor all go through here.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::types::{Image, ImageStatus, CORE_FIELDS};
use crate::openstack::error::{Error, Result};

/// What to change; `None` / empty leaves a field as it is. (The window sends one as JSON.)
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct ImageEdit {
    pub name: Option<String>,
    pub min_disk: Option<u64>,
    pub min_ram: Option<u64>,
    pub container_format: Option<String>,
    pub disk_format: Option<String>,
    pub protected: Option<bool>,
    pub visibility: Option<String>,
    /// `os_hidden`.
    pub hidden: Option<bool>,
    /// The owning project's id.
    pub owner: Option<String>,
    /// Custom (string) properties to set: `os_distro`, `architecture`, `hw_*`, anything.
    pub properties: Vec<(String, String)>,
    /// Properties to remove; each must be on the image.
    pub remove_properties: Vec<String>,
    /// Tags to add and to remove (each to remove must be on the image).
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
}

/// Attributes Glance manages itself: never set or removed as properties.
const READ_ONLY: &[&str] = &[
    "checksum",
    "created_at",
    "file",
    "id",
    "os_hash_algo",
    "os_hash_value",
    "schema",
    "self",
    "size",
    "status",
    "updated_at",
    "virtual_size",
    "direct_url",
    "locations",
    "stores",
];

pub const VISIBILITIES: &[&str] = &["public", "private", "community", "shared"];

impl ImageEdit {
    pub fn is_empty(&self) -> bool {
        *self == ImageEdit::default()
    }

    /// The JSON-patch operations that take `image` to what was asked, in a fixed order; none
    /// when nothing would change. Refuses (before anything is sent) what Glance would refuse
    /// less clearly: a format change on an image that has data, a property or tag to remove
    /// that is not there, a read-only attribute.
    pub fn ops(&self, image: &Image) -> Result<Vec<Value>> {
        let now = image.to_map();
        let mut ops = Vec::new();
        let mut set = |key: &str, value: Value| match now.get(key) {
            Some(v) if *v == value => {}
            Some(Value::Null) | None => ops.push(json!({"op": "add", "path": pointer(key), "value": value})),
            Some(_) => ops.push(json!({"op": "replace", "path": pointer(key), "value": value})),
        };
        if let Some(n) = &self.name {
            set("name", json!(n));
        }
        for (key, format) in [("disk_format", &self.disk_format), ("container_format", &self.container_format)] {
            if let Some(f) = format {
                if now.get(key).and_then(Value::as_str) != Some(f.as_str()) && image.status != ImageStatus::Queued {
                    return Err(Error::Invalid(format!(
                        "the {} of image {} cannot change: it is '{}', and Glance lets only a queued image \
                         (one without data) change format",
                        key.replace('_', " "),
                        image.id(),
                        image.status()
                    )));
                }
                set(key, json!(f));
            }
        }
        if let Some(n) = self.min_disk {
            set("min_disk", json!(n));
        }
        if let Some(n) = self.min_ram {
            set("min_ram", json!(n));
        }
        if let Some(p) = self.protected {
            set("protected", json!(p));
        }
        if let Some(v) = &self.visibility {
            if !VISIBILITIES.contains(&v.as_str()) {
                return Err(Error::Invalid(format!("'{v}' is not a visibility (one of {})", VISIBILITIES.join(", "))));
            }
            set("visibility", json!(v));
        }
        if let Some(h) = self.hidden {
            set("os_hidden", json!(h));
        }
        if let Some(o) = &self.owner {
            set("owner", json!(o));
        }
        for (k, v) in &self.properties {
            if READ_ONLY.contains(&k.as_str()) || CORE_FIELDS.contains(&k.as_str()) {
                return Err(Error::Invalid(format!(
                    "'{k}' is not a custom property: Glance sets it, or it has its own option"
                )));
            }
            set(k, json!(v));
        }
        let missing: Vec<&str> =
            self.remove_properties.iter().map(String::as_str).filter(|k| !now.contains_key(*k)).collect();
        if !missing.is_empty() {
            return Err(Error::Invalid(format!("image {} has no property {}", image.id(), quoted(&missing))));
        }
        for k in &self.remove_properties {
            if READ_ONLY.contains(&k.as_str()) || CORE_FIELDS.contains(&k.as_str()) {
                return Err(Error::Invalid(format!(
                    "'{k}' cannot be removed: it is one of the image's own attributes"
                )));
            }
            ops.push(json!({"op": "remove", "path": pointer(k)}));
        }
        let missing: Vec<&str> =
            self.remove_tags.iter().map(String::as_str).filter(|t| !image.tags.iter().any(|x| x == t)).collect();
        if !missing.is_empty() {
            return Err(Error::Invalid(format!("image {} has no tag {}", image.id(), quoted(&missing))));
        }
        let old: BTreeSet<&str> = image.tags.iter().map(String::as_str).collect();
        let mut new = old.clone();
        new.extend(self.add_tags.iter().map(String::as_str));
        for t in &self.remove_tags {
            new.remove(t.as_str());
        }
        if new != old {
            ops.push(json!({"op": "replace", "path": "/tags", "value": new.into_iter().collect::<Vec<_>>()}));
        }
        Ok(ops)
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
}

/// A JSON pointer to a top-level key (`~` and `/` escaped, RFC 6901).
fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: &str) -> Image {
        Image::from_value(
            json!({"id": "i", "name": "old", "status": status, "disk_format": "qcow2", "container_format": "bare",
                "min_disk": 0, "min_ram": 0, "protected": false, "visibility": "private", "tags": ["a", "b"],
                "os_distro": "cirros", "os_hidden": false, "size": 3}),
            "-",
        )
        .unwrap()
    }

    #[test]
    fn only_what_changes_is_sent() {
        let e = ImageEdit {
            name: Some("old".into()),
            min_disk: Some(1),
            protected: Some(false),
            visibility: Some("public".into()),
            hidden: Some(true),
            properties: vec![("os_distro".into(), "cirros".into()), ("hw/x~y".into(), "1".into())],
            add_tags: vec!["b".into(), "c".into()],
            remove_tags: vec!["a".into()],
            ..Default::default()
        };
        assert_eq!(
            e.ops(&image("active")).unwrap(),
            vec![
                json!({"op": "replace", "path": "/min_disk", "value": 1}),
                json!({"op": "replace", "path": "/visibility", "value": "public"}),
                json!({"op": "replace", "path": "/os_hidden", "value": true}),
                json!({"op": "add", "path": "/hw~1x~0y", "value": "1"}),
                json!({"op": "replace", "path": "/tags", "value": ["b", "c"]}),
            ]
        );
        assert!(ImageEdit::default().ops(&image("active")).unwrap().is_empty());
        let same = ImageEdit { name: Some("old".into()), add_tags: vec!["a".into()], ..Default::default() };
        assert!(same.ops(&image("active")).unwrap().is_empty());
    }

    #[test]
    fn what_glance_would_refuse_is_refused_first() {
        let fmt = ImageEdit { disk_format: Some("raw".into()), ..Default::default() };
        assert!(fmt.ops(&image("active")).unwrap_err().to_string().contains("only a queued image"));
        assert_eq!(
            fmt.ops(&image("queued")).unwrap(),
            vec![json!({"op": "replace", "path": "/disk_format", "value": "raw"})]
        );
        let same_fmt = ImageEdit { disk_format: Some("qcow2".into()), ..Default::default() };
        assert!(same_fmt.ops(&image("active")).unwrap().is_empty());
        let gone = ImageEdit { remove_properties: vec!["nope".into(), "os_distro".into()], ..Default::default() };
        assert_eq!(gone.ops(&image("active")).unwrap_err().to_string(), "image i has no property 'nope'");
        let gone = ImageEdit { remove_tags: vec!["z".into()], ..Default::default() };
        assert_eq!(gone.ops(&image("active")).unwrap_err().to_string(), "image i has no tag 'z'");
        let ro = ImageEdit { properties: vec![("checksum".into(), "x".into())], ..Default::default() };
        assert!(ro.ops(&image("active")).is_err());
        let ro = ImageEdit { remove_properties: vec!["size".into()], ..Default::default() };
        assert!(ro.ops(&image("active")).is_err());
        let vis = ImageEdit { visibility: Some("all".into()), ..Default::default() };
        assert!(vis.ops(&image("active")).is_err());
    }

    #[test]
    fn removing_a_property() {
        let e = ImageEdit { remove_properties: vec!["os_distro".into()], ..Default::default() };
        assert_eq!(e.ops(&image("active")).unwrap(), vec![json!({"op": "remove", "path": "/os_distro"})]);
    }
}
