//! Glance v2: discovery and the image calls.

pub mod api;
pub mod discovery;
pub mod edit;
pub mod import;
pub mod manage;
pub mod members;
pub mod query;
mod spec;
pub mod types;

pub use api::{Images, Page};
pub use edit::ImageEdit;
pub use members::Member;
pub use query::ImageQuery;
pub use spec::ImageSpec;
pub use types::{ContainerFormat, DiskFormat, Image, ImageStatus, CORE_FIELDS};
