//! Glance v2: discovery and the image calls.

pub mod api;
pub mod discovery;
pub mod import;
mod spec;
pub mod types;

pub use api::Images;
pub use spec::ImageSpec;
pub use types::{ContainerFormat, DiskFormat, Image, ImageStatus, CORE_FIELDS};
