//! Where cloud settings come from. Profiles with keyring-held secrets come later; today:
//! clouds.yaml, secure.yaml and the `OS_*` environment, read as openstackclient reads them.

pub mod clouds;

pub use clouds::{resolve, CloudFiles};
