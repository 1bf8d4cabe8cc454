//! The upload engine: create the image, stream the file into it while hashing, verify what
//! Glance stored, record the checksums on it — and on any failure or cancel, delete the image
//! it created (unless asked to keep it).
//!
//! [`spec`]: what to create and the options; [`file`]: the local file, opened and checked
//! once; [`attempt`]: create, stream, retry and clean up; [`fan_out`]: one read to several
//! clouds or regions; [`copy`]: an image from one cloud into others, through the same
//! fan-out; [`verify`]: wait for `active` and compare; [`stream`]: the reader thread
//! that hashes. Glance's interoperable import lives
//! in [`crate::openstack::image::import`]: glance-direct's staging is an upload and goes
//! through here; web-download and copy-image send no bytes and do not.

mod attempt;
pub mod copy;
pub mod error;
pub mod fan_out;
mod file;
pub mod local;
pub mod progress;
pub mod queue;
mod spec;
pub mod stream;
mod verify;

pub use attempt::{create_and_upload, token_warning};
pub use copy::{copy_to_many, Copied, CopyOptions};
pub use error::{Error, Result};
pub use fan_out::{create_and_upload_to_many, send_to_many, Source, Target};
pub use file::{open_file, prepare, LocalFile};
pub use progress::{Phase, Progress, ProgressFn, RateMeter, WarnFn};
pub use queue::{Queue, Ticket};
pub use spec::{ImageSpec, UploadOptions, Uploaded};
pub use stream::Digests;
pub use verify::verify;
