//! Glance v2: discovery and the image calls.

pub mod api;
pub mod discovery;

pub use api::{Image, Images, CORE_FIELDS};
