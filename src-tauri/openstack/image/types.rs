//! Glance's image record, typed: the fields every image has, an enum for its status and for
//! its disk and container formats (with Glance's own names), and everything else — custom
//! properties, `stores`, `os_glance_*` — kept in a map so that nothing Glance said is lost.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A string enum with Glance's spellings and an `Other` for names a newer Glance may add.
macro_rules! glance_names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A name this version of Stackdrop does not know.
            Other(String),
        }

        impl $name {
            /// Every name this version knows, in the order a person is offered them.
            pub const KNOWN: &'static [&'static str] = &[$($text),*];

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                Ok($name::parse(&String::deserialize(d)?))
            }
        }
    };
}

glance_names!(
    /// Where an image is in its life (Glance's `status`).
    ImageStatus {
        Queued => "queued",
        Saving => "saving",
        Uploading => "uploading",
        Importing => "importing",
        Active => "active",
        Deactivated => "deactivated",
        Killed => "killed",
        Deleted => "deleted",
        PendingDelete => "pending_delete",
    }
);

glance_names!(
    /// Glance's `disk_format` values (the common ones first).
    DiskFormat {
        Qcow2 => "qcow2",
        Raw => "raw",
        Vmdk => "vmdk",
        Vhd => "vhd",
        Vhdx => "vhdx",
        Vdi => "vdi",
        Iso => "iso",
        Ploop => "ploop",
        Ami => "ami",
        Ari => "ari",
        Aki => "aki",
    }
);

glance_names!(
    /// Glance's `container_format` values (the usual one first).
    ContainerFormat {
        Bare => "bare",
        Ovf => "ovf",
        Ova => "ova",
        Docker => "docker",
        Ami => "ami",
        Ari => "ari",
        Aki => "aki",
        Compressed => "compressed",
    }
);

impl ImageStatus {
    /// Glance is still taking in or processing data.
    pub fn is_busy(&self) -> bool {
        matches!(self, ImageStatus::Saving | ImageStatus::Uploading | ImageStatus::Importing)
    }
}

/// A Glance image as Glance returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: ImageStatus,
    #[serde(default)]
    pub disk_format: Option<DiskFormat>,
    #[serde(default)]
    pub container_format: Option<ContainerFormat>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub virtual_size: Option<u64>,
    /// md5 of the data, hex.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Not one of openstackclient's core fields: shown among the properties when Glance set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_hash_algo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_hash_value: Option<String>,
    #[serde(default)]
    pub min_disk: Option<u64>,
    #[serde(default)]
    pub min_ram: Option<u64>,
    #[serde(default)]
    pub protected: Option<bool>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The relative upload path (`/v2/images/{id}/file`).
    #[serde(default)]
    pub file: Option<String>,
    /// Everything else: custom properties, `self`, `schema`, `stores`, `os_glance_*`, ….
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Glance's fixed image attributes, in openstackclient's order; anything else in an image
/// body is a property.
pub const CORE_FIELDS: &[&str] = &[
    "checksum",
    "container_format",
    "created_at",
    "disk_format",
    "file",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "owner",
    "protected",
    "schema",
    "self",
    "size",
    "status",
    "tags",
    "updated_at",
    "virtual_size",
    "visibility",
];

impl Image {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn status(&self) -> &ImageStatus {
        &self.status
    }

    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// A field outside the typed ones, as text (`stores`, `os_glance_failed_import`, a custom
    /// property).
    pub fn other_str(&self, key: &str) -> Option<&str> {
        self.other.get(key).and_then(Value::as_str)
    }

    /// A comma-separated field (`stores`, `os_glance_importing_to_stores`) as a list.
    pub fn other_list(&self, key: &str) -> Vec<String> {
        self.other_str(key)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The image as Glance's JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The fields as openstackclient's `image show` gives them: sorted by name, those Glance
    /// left empty (null) out, `tags` always, custom properties (and Glance's `os_*`, `stores`)
    /// folded into `properties` when there are any.
    pub fn fields(&self) -> Vec<(String, Value)> {
        let all = self.to_map();
        let props: Map<String, Value> = all
            .iter()
            .filter(|(k, _)| !CORE_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut fields: Vec<(String, Value)> = CORE_FIELDS
            .iter()
            .filter(|k| **k != "self")
            .filter_map(|k| match all.get(*k) {
                Some(Value::Null) | None if *k != "tags" => None,
                v => Some((k.to_string(), v.cloned().unwrap_or(Value::Array(vec![])))),
            })
            .collect();
        if !props.is_empty() {
            let at = fields.iter().position(|(k, _)| k.as_str() > "properties").unwrap_or(fields.len());
            fields.insert(at, ("properties".into(), Value::Object(props)));
        }
        fields
    }

    /// The relative upload path Glance gave (`/v2/images/{id}/file`).
    pub fn file_path(&self) -> String {
        self.file.clone().unwrap_or_else(|| format!("/v2/images/{}/file", self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_image_keeps_what_it_does_not_type() {
        let v = json!({"id": "i", "name": "cirros", "status": "active", "disk_format": "qcow2",
            "container_format": "bare", "size": 3, "virtual_size": null, "tags": ["a"], "checksum": "ab",
            "os_distro": "cirros", "stores": "fs,fs2", "self": "/v2/images/i", "os_hidden": false});
        let img: Image = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(img.status, ImageStatus::Active);
        assert_eq!(img.disk_format, Some(DiskFormat::Qcow2));
        assert_eq!(img.other_list("stores"), ["fs", "fs2"]);
        assert_eq!(img.other_str("os_distro"), Some("cirros"));
        let back = Value::Object(img.to_map());
        for (k, want) in v.as_object().unwrap() {
            assert_eq!(back.get(k), Some(want), "{k}");
        }
        let fields = img.fields();
        let props = &fields.iter().find(|(k, _)| k == "properties").unwrap().1;
        assert_eq!(props, &json!({"os_distro": "cirros", "stores": "fs,fs2", "os_hidden": false}));
    }

    #[test]
    fn names_a_newer_glance_adds_are_kept() {
        let img: Image = serde_json::from_value(json!({"id": "i", "status": "frozen", "disk_format": "qed"})).unwrap();
        assert_eq!(img.status, ImageStatus::Other("frozen".into()));
        assert_eq!(img.disk_format.as_ref().map(DiskFormat::as_str), Some("qed"));
        assert_eq!(serde_json::to_value(&img).unwrap()["status"], "frozen");
        assert!(ImageStatus::Saving.is_busy() && !ImageStatus::Active.is_busy());
        assert_eq!(DiskFormat::parse("vhdx"), DiskFormat::Vhdx);
    }
}
