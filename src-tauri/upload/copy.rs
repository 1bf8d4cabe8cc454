//! `image copy`: an image of one cloud (or region) into others, streamed from the source
//! Glance's `GET …/file` straight into each target's `PUT` — no temporary file, memory
//! bounded — through the same fan-out as a local file ([`super::fan_out`]): the source's size,
//! md5 and `os_hash_value` are checked as it streams, and each target is verified and cleaned
//! up on its own.
//!
//! What travels: the name (or a new one), disk and container format, min disk and RAM,
//! visibility (or another), tags and the user's properties. Not Glance's own (`os_hash_*`,
//! `stores`, `os_glance_*`, `direct_url`, `locations`, `os_hidden`), and not
//! `owner_specified.*`, which the copy records afresh from the bytes it sent. Not `protected`
//! either, nor the owner: the copy belongs to whoever made it.
//!
//! An image already in a target with the same data is reported, not copied again (unless
//! forced). The key is openstacksdk's: `owner_specified.openstack.sha256`, when the source
//! records it (any image Stackdrop or openstacksdk uploaded does); else the source's
//! `os_hash_value`, which Glance computed.

use futures_util::future::join_all;

use super::error::{Error, Result};
use super::fan_out::{send_to_many, Source, Target};
use super::{ImageSpec, Phase, Progress, UploadOptions, Uploaded};
use crate::openstack::image::{Image, ImageStatus, CORE_FIELDS};
use crate::openstack::session::Session;

/// What to change on the way.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// The copies' name (default: the source's).
    pub name: Option<String>,
    /// The copies' visibility (default: the source's).
    pub visibility: Option<String>,
    /// Copy even where the same data is already there.
    pub force: bool,
    /// When one target fails, remove the copies the others made.
    pub all_or_nothing: bool,
}

/// What one target got.
#[derive(Debug)]
pub enum Copied {
    /// A new image, verified.
    Made(Uploaded),
    /// Nothing sent: this image there already holds the same data.
    AlreadyThere(Image),
}

impl Copied {
    pub fn image(&self) -> &Image {
        match self {
            Copied::Made(u) => &u.image,
            Copied::AlreadyThere(i) => i,
        }
    }
}

/// Properties Glance sets or computes itself, which a copy does not carry.
fn glance_own(key: &str) -> bool {
    CORE_FIELDS.contains(&key)
        || key.starts_with("os_hash_")
        || key.starts_with("os_glance_")
        || key.starts_with("owner_specified.")
        || matches!(key, "stores" | "direct_url" | "locations" | "os_hidden")
}

/// The image to create in each target for a copy of `image`.
pub fn copy_spec(image: &Image, opts: &CopyOptions) -> Result<ImageSpec> {
    let format = |f: Option<String>, what: &str| {
        f.filter(|f| !f.is_empty())
            .ok_or_else(|| Error::Invalid(format!("image {} has no {what}: there is nothing to copy", image.id())))
    };
    let mut properties: Vec<(String, String)> = image
        .other
        .iter()
        .filter(|(k, _)| !glance_own(k))
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect();
    properties.sort();
    Ok(ImageSpec {
        name: opts.name.clone().or_else(|| image.name.clone()).unwrap_or_default(),
        disk_format: format(image.disk_format.as_ref().map(|f| f.as_str().to_owned()), "disk format")?,
        container_format: format(image.container_format.as_ref().map(|f| f.as_str().to_owned()), "container format")?,
        visibility: opts.visibility.clone().or_else(|| image.visibility.clone()),
        min_disk: image.min_disk.filter(|v| *v > 0),
        min_ram: image.min_ram.filter(|v| *v > 0),
        tags: image.tags.clone(),
        properties,
        ..Default::default()
    })
}

/// The key an identical copy would carry, as a list filter: `(property, value)`.
pub fn same_data_key(image: &Image) -> Option<(&'static str, &str)> {
    if let Some(v) = image.other_str("owner_specified.openstack.sha256").filter(|v| !v.is_empty()) {
        return Some(("owner_specified.openstack.sha256", v));
    }
    image.os_hash_value.as_deref().filter(|v| !v.is_empty()).map(|v| ("os_hash_value", v))
}

/// An active image in `target` holding the same data as `image`, if there is one.
pub async fn find_same(target: &Session, image: &Image) -> Result<Option<Image>> {
    let Some((key, value)) = same_data_key(image) else { return Ok(None) };
    let found = target.images().list(&[(key, value), ("status", "active")]).await?;
    // Glance filters on the key; the size is checked too, in case a cloud ignores the filter.
    Ok(found.into_iter().find(|i| {
        i.status == ImageStatus::Active
            && i.size() == image.size()
            && (i.other_str(key) == Some(value) || i.os_hash_value.as_deref() == Some(value))
    }))
}

/// Copy `image` (of `source`) to every target at once; one result per target, in their order.
pub async fn copy_to_many(
    source: &Session,
    image: &Image,
    targets: &[Target<'_>],
    copy: &CopyOptions,
    opts: &UploadOptions,
) -> Vec<Result<Copied>> {
    let spec = match copy_spec(image, copy) {
        Ok(s) => s,
        Err(e) => return targets.iter().map(|_| Err(Error::Invalid(e.to_string()))).collect(),
    };
    // Where the data is already, nothing is sent.
    let found: Vec<Result<Option<Image>>> = join_all(targets.iter().map(|t| async move {
        if copy.force {
            return Ok(None);
        }
        find_same(t.session, image).await
    }))
    .await;
    let send_to: Vec<Target> = targets
        .iter()
        .zip(&found)
        .filter(|(_, f)| matches!(f, Ok(None)))
        .map(|(t, _)| Target { label: t.label.clone(), session: t.session, progress: t.progress.clone() })
        .collect();
    let source = Source::Image { session: source, image };
    let mut sent = send_to_many(&send_to, &spec, source, opts, copy.all_or_nothing).await.into_iter();
    found
        .into_iter()
        .zip(targets)
        .map(|(f, t)| match f {
            Err(e) => Err(e),
            Ok(Some(there)) => {
                if let Some(p) = &t.progress {
                    let total = there.size().unwrap_or(0);
                    p(&Progress {
                        phase: Phase::Active,
                        // Not ours: no front end should count it among the images it made.
                        image_id: None,
                        sent: total,
                        total,
                        rate: 0.0,
                        eta_secs: None,
                        server_status: None,
                    });
                }
                Ok(Copied::AlreadyThere(there))
            }
            Ok(None) => sent.next().expect("a result for each target sent to").map(Copied::Made),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(v: serde_json::Value) -> Image {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_copy_carries_the_users_metadata_and_not_glances() {
        let src = image(json!({
            "id": "a", "name": "cirros", "status": "active", "disk_format": "qcow2",
            "container_format": "bare", "visibility": "public", "size": 10, "min_disk": 1,
            "min_ram": 0, "protected": true, "tags": ["x", "y"], "owner": "p1",
            "checksum": "c", "os_hash_algo": "sha512", "os_hash_value": "h",
            "os_hidden": false, "stores": "file", "os_glance_importing_to_stores": "",
            "owner_specified.openstack.sha256": "s", "owner_specified.openstack.md5": "m",
            "direct_url": "file:///x", "self": "/v2/images/a", "schema": "/v2/schemas/image",
            "file": "/v2/images/a/file", "os_distro": "cirros", "hw_disk_bus": "virtio",
            "created_at": "t", "updated_at": "t", "virtual_size": 20
        }));
        let spec = copy_spec(&src, &CopyOptions::default()).unwrap();
        assert_eq!(spec.name, "cirros");
        assert_eq!((spec.disk_format.as_str(), spec.container_format.as_str()), ("qcow2", "bare"));
        assert_eq!(spec.visibility.as_deref(), Some("public"));
        assert_eq!((spec.min_disk, spec.min_ram), (Some(1), None));
        assert_eq!(spec.tags, ["x", "y"]);
        assert_eq!(
            spec.properties,
            [("hw_disk_bus".to_owned(), "virtio".to_owned()), ("os_distro".to_owned(), "cirros".to_owned())]
        );
        assert_eq!((spec.protected, spec.owner, spec.id), (None, None, None));
        let renamed = CopyOptions { name: Some("c2".into()), visibility: Some("private".into()), ..Default::default() };
        let spec = copy_spec(&src, &renamed).unwrap();
        assert_eq!((spec.name.as_str(), spec.visibility.as_deref()), ("c2", Some("private")));
        // The dedup key: openstacksdk's property first, Glance's hash otherwise.
        assert_eq!(same_data_key(&src), Some(("owner_specified.openstack.sha256", "s")));
    }

    #[test]
    fn an_image_without_data_cannot_be_copied() {
        let queued = image(json!({"id": "q", "status": "queued", "name": "n"}));
        let e = copy_spec(&queued, &CopyOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "image q has no disk format: there is nothing to copy");
        assert_eq!(same_data_key(&queued), None);
        let hashed = image(json!({"id": "h", "status": "active", "os_hash_value": "v"}));
        assert_eq!(same_data_key(&hashed), Some(("os_hash_value", "v")));
    }
}
