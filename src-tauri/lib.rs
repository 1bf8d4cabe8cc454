//! Stackdrop's library: the OpenStack client and the upload engine that the CLI, the desktop
//! app and the tests all use. Nothing here depends on Tauri.
//!
//! The tree follows `openstack image create`'s sequence:
//! [`openstack::identity`] (discovery, token) -> [`openstack::catalog`] -> [`openstack::image`]
//! (discovery, create, upload) -> [`upload`] (streaming, hashing, verification, cleanup).
//! [`config`] turns clouds.yaml / `OS_*` into a [`openstack::Cloud`].
//!
//! The command line (`src-tauri/cli/`) and the desktop app (`src-tauri/app/`) are two front
//! ends in the `stackdrop` binary, beside this library: each uses it, neither uses the other.

pub mod config;
pub mod convert;
pub mod download;
pub mod i18n;
pub mod inspect;
pub mod openstack;
pub mod safe_fs;
pub mod upload;
