//! After the bytes: follow Glance until the image is `active`, then check that what it stored
//! is what was sent.

use std::time::Duration;

use super::error::{Error, Result};
use crate::openstack::image::{Image, ImageStatus};
use crate::openstack::retry::{poll_until, Backoff, Polled};
use crate::openstack::session::Session;

use super::Digests;

/// Poll until `active`; fail on `killed`, `deleted` or a fall back to `queued` (Glance's sign
/// that it dropped the data).
pub(super) async fn wait_active(
    session: &Session,
    id: &str,
    timeout: Duration,
    on_status: &(dyn Fn(&str) + Sync),
) -> Result<Image> {
    let look = || async {
        let image = session.images().get(id).await?;
        on_status(image.status().as_str());
        match image.status() {
            ImageStatus::Active => Ok(Polled::Ready(image)),
            busy if busy.is_busy() => Ok(Polled::Pending(busy.to_string())),
            other => Err(Error::Verification {
                image_id: id.into(),
                detail: format!("Glance put it in status '{other}' instead of 'active' after the upload"),
            }),
        }
    };
    let timed_out = |status: String| Error::Verification {
        image_id: id.into(),
        detail: format!("still '{status}' after {} s", timeout.as_secs()),
    };
    poll_until(Backoff::DEFAULT, timeout, look, timed_out).await
}

/// Compare what Glance stored with what we sent: size, md5 `checksum`, and `os_hash_value`
/// for its `os_hash_algo`. Returns the algorithm verified.
pub fn verify(image: &Image, d: &Digests) -> Result<Option<String>> {
    let fail = |detail: String| Err(Error::Verification { image_id: image.id().into(), detail });
    if image.size() != Some(d.bytes) {
        return fail(format!("Glance stored {:?} bytes, we sent {}", image.size(), d.bytes));
    }
    match image.checksum.as_deref() {
        Some(c) if c == d.md5 => {}
        Some(c) => return fail(format!("md5 checksum {c} differs from ours {}", d.md5)),
        None => return fail("Glance recorded no checksum".into()),
    }
    let algo = image.os_hash_algo.clone().unwrap_or_default();
    let value = image.os_hash_value.as_deref().unwrap_or_default();
    if algo.is_empty() {
        return Ok(None);
    }
    match d.for_algo(&algo) {
        Some(ours) if ours == value => Ok(Some(algo)),
        Some(ours) => fail(format!("{algo} {value} differs from ours {ours}")),
        None => {
            tracing::warn!("Glance hashes with {algo}, which stackdrop does not compute; md5 and size were verified");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn image(mut v: Value) -> Image {
        v["status"] = json!("active");
        Image::from_value(v, "-").unwrap()
    }

    fn digests() -> Digests {
        let mut h = super::super::stream::Hasher::default();
        h.update(b"abc");
        h.finish()
    }

    #[test]
    fn verify_checks_size_md5_and_os_hash() {
        let d = digests();
        let good =
            json!({"id": "i", "size": 3, "checksum": d.md5, "os_hash_algo": "sha512", "os_hash_value": d.sha512});
        assert_eq!(verify(&image(good.clone()), &d).unwrap().as_deref(), Some("sha512"));
        let mut bad = good.clone();
        bad["os_hash_value"] = json!("00");
        assert!(verify(&image(bad), &d).unwrap_err().to_string().contains("sha512 00 differs"));
        let mut bad = good.clone();
        bad["checksum"] = json!("ff");
        assert!(verify(&image(bad), &d).unwrap_err().to_string().contains("md5 checksum ff"));
        let mut bad = good;
        bad["size"] = json!(4);
        assert!(verify(&image(bad), &d).is_err());
    }
}
