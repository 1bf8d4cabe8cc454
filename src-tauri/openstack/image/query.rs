//! Which images to list: Glance's own filters (visibility, name, status, member status, owner,
//! tags, hidden), its marker paging, and what openstackclient does on the client's side —
//! exact-match `--property` filters and a stable sort by `key[:asc|desc],…`.

use serde_json::Value;

use super::types::Image;
use crate::openstack::error::{Error, Result};

/// `image list`'s filters, as Glance takes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageQuery {
    /// `public`, `private`, `community`, `shared` or `all`; none = Glance's default list.
    pub visibility: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    /// `accepted`, `pending`, `rejected` or `all` (images shared with the caller).
    pub member_status: Option<String>,
    /// A project id.
    pub owner: Option<String>,
    /// Every tag must be on the image.
    pub tags: Vec<String>,
    /// List hidden images (`os_hidden=true`) instead of the visible ones.
    pub hidden: bool,
    /// Glance's page size (`limit`). With `one_page`, also the most images returned.
    pub limit: Option<u32>,
    /// Start after this image id.
    pub marker: Option<String>,
    /// Only the first page (openstackclient's `--limit`: no following of `next`).
    pub one_page: bool,
    /// Stop after this many images in all.
    pub max_items: Option<usize>,
}

pub const VISIBILITIES: &[&str] = &["public", "private", "community", "shared", "all"];
pub const MEMBER_STATUSES: &[&str] = &["accepted", "pending", "rejected", "all"];

impl ImageQuery {
    /// The query string of the first request (later pages follow Glance's `next` link).
    pub fn params(&self) -> Result<Vec<(String, String)>> {
        let mut q: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: &str| q.push((k.to_owned(), v.to_owned()));
        if let Some(v) = &self.visibility {
            if !VISIBILITIES.contains(&v.as_str()) {
                return Err(Error::Invalid(format!("'{v}' is not a visibility (one of {})", VISIBILITIES.join(", "))));
            }
            put("visibility", v);
        }
        if let Some(m) = &self.member_status {
            let m = m.to_lowercase();
            if !MEMBER_STATUSES.contains(&m.as_str()) {
                return Err(Error::Invalid(format!(
                    "'{m}' is not a member status (one of {})",
                    MEMBER_STATUSES.join(", ")
                )));
            }
            put("member_status", &m);
        }
        for (k, v) in [("name", &self.name), ("status", &self.status), ("owner", &self.owner)] {
            if let Some(v) = v {
                put(k, v);
            }
        }
        for t in &self.tags {
            put("tag", t);
        }
        if self.hidden {
            put("os_hidden", "true");
        }
        if let Some(m) = &self.marker {
            put("marker", m);
        }
        put("limit", &self.limit.unwrap_or(DEFAULT_PAGE).to_string());
        Ok(q)
    }
}

/// Images per request when the caller does not say.
pub const DEFAULT_PAGE: u32 = 200;

/// Keep the images whose field or property `key` is exactly `value` as text (openstackclient's
/// `--property` filter, applied after the list arrives).
pub fn keep_matching(images: &mut Vec<Image>, key: &str, value: &str) {
    images.retain(|img| img.to_map().get(key).and_then(Value::as_str) == Some(value));
}

/// One sort key: a field name and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub key: String,
    pub descending: bool,
}

/// `name:asc,size:desc` -> keys; as openstackclient's, a direction other than asc/desc is an
/// error, and no direction means ascending.
pub fn parse_sort(s: &str) -> Result<Vec<SortKey>> {
    let mut keys = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (key, dir) = part.split_once(':').unwrap_or((part, "asc"));
        if key.is_empty() {
            return Err(Error::Invalid("'<empty string>' is not a valid sort key".into()));
        }
        let descending = match dir {
            "asc" => false,
            "desc" => true,
            other => {
                return Err(Error::Invalid(format!(
                    "'{}' is not a valid sort direction for sort key {key}, use 'asc' or 'desc' instead",
                    if other.is_empty() { "<empty string>" } else { other }
                )))
            }
        };
        keys.push(SortKey { key: key.to_owned(), descending });
    }
    Ok(keys)
}

/// A stable sort by the keys, each compared as text (openstackclient compares `str()` of each
/// value, so a missing one sorts as "None" and 10 before 9). Each image's sort fields are read
/// once, not at every comparison.
pub fn sort_images(images: &mut Vec<Image>, keys: &[SortKey]) {
    let field = |m: &serde_json::Map<String, Value>, key: &str| -> String {
        match m.get(key) {
            None | Some(Value::Null) => "None".to_owned(),
            Some(Value::Bool(b)) => if *b { "True" } else { "False" }.to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    };
    let mut keyed: Vec<(Vec<String>, Image)> = images
        .drain(..)
        .map(|img| {
            let m = img.to_map();
            (keys.iter().map(|k| field(&m, &k.key)).collect(), img)
        })
        .collect();
    // Key by key, the first that differs decides (as Python's sorts by each key in reverse).
    keyed.sort_by(|(a, _), (b, _)| {
        keys.iter()
            .zip(a.iter().zip(b))
            .map(|(k, (x, y))| if k.descending { y.cmp(x) } else { x.cmp(y) })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    images.extend(keyed.into_iter().map(|(_, img)| img));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn img(id: &str, name: Option<&str>, size: u64) -> Image {
        Image::from_value(json!({"id": id, "name": name, "status": "active", "size": size, "os_distro": id}), "-")
            .unwrap()
    }

    #[test]
    fn filters_become_glance_parameters() {
        let q = ImageQuery {
            visibility: Some("shared".into()),
            member_status: Some("Accepted".into()),
            tags: vec!["a".into(), "b".into()],
            hidden: true,
            owner: Some("p1".into()),
            limit: Some(5),
            ..Default::default()
        };
        let p = q.params().unwrap();
        let want: Vec<(String, String)> = [
            ("visibility", "shared"),
            ("member_status", "accepted"),
            ("owner", "p1"),
            ("tag", "a"),
            ("tag", "b"),
            ("os_hidden", "true"),
            ("limit", "5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(p, want);
        let bad = ImageQuery { visibility: Some("everyone".into()), ..Default::default() };
        assert!(bad.params().unwrap_err().to_string().contains("not a visibility"));
    }

    #[test]
    fn sorting_is_textual_stable_and_multi_key() {
        let mut v = vec![img("1", Some("b"), 9), img("2", None, 10), img("3", Some("a"), 9), img("4", Some("b"), 1)];
        sort_images(&mut v, &parse_sort("name:asc").unwrap());
        let ids: Vec<&str> = v.iter().map(Image::id).collect();
        // A missing name sorts as "None", before lowercase names.
        assert_eq!(ids, ["2", "3", "1", "4"]);
        sort_images(&mut v, &parse_sort("size:desc,name").unwrap());
        let ids: Vec<&str> = v.iter().map(Image::id).collect();
        // As text, "9" > "10" > "1".
        assert_eq!(ids, ["3", "1", "2", "4"]);
        assert!(parse_sort("name:up").unwrap_err().to_string().contains("'up' is not a valid sort direction"));
        assert!(parse_sort(":asc").is_err());
    }

    #[test]
    fn property_filter_is_exact() {
        let mut v = vec![img("x", Some("a"), 1), img("y", Some("b"), 1)];
        keep_matching(&mut v, "os_distro", "y");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].id(), "y");
        keep_matching(&mut v, "nope", "y");
        assert!(v.is_empty());
    }
}
