//! How to upload (the options) and what a finished upload reports; what to create is the
//! protocol's [`ImageSpec`].

use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::openstack::image::Image;
pub use crate::openstack::image::ImageSpec;

use super::{Digests, ProgressFn, WarnFn};
use crate::openstack::image::import;

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
    /// Turn a raw disk into this format while it streams (only its data is sent).
    pub convert: Option<crate::convert::Format>,
    /// With `convert`: deflate the data clusters too.
    pub compress: bool,
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
            convert: None,
            compress: false,
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
