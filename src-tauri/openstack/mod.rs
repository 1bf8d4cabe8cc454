//! The OpenStack protocol, in the order `openstack image create` talks to it: identity
//! (discovery, token), catalog, image (discovery, create, upload). [`http`] is the one client
//! every call goes through and [`retry`] the one way to wait and try again. No Tauri, no
//! terminal, no file dialogs here.

pub mod catalog;
pub mod check;
pub mod error;
pub mod http;
pub mod identity;
pub mod image;
pub mod retry;
pub mod secret;
pub mod session;

pub use error::{Cleanup, Error, Result, Service};
pub use secret::Secret;
pub use session::{Cloud, Session};
