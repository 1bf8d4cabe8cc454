//! Where cloud settings come from. Profiles with keyring-held secrets come later; today:
//! clouds.yaml, secure.yaml and the `OS_*` environment, read as openstackclient reads them.

pub mod clouds;

pub use clouds::{resolve, CloudFiles};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::openstack::{Result, Session};

/// A cloud the person can choose, and where it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudChoice {
    pub name: String,
    /// "clouds.yaml" or "environment".
    pub source: String,
}

/// The clouds on offer: clouds.yaml's entries, then the `OS_*` cloud when `OS_AUTH_URL` is set.
/// Also returns the clouds.yaml path and the cloud `OS_CLOUD` names, if any.
pub fn choices(env: &dyn Fn(&str) -> Option<String>) -> Result<(Vec<CloudChoice>, Option<String>, Option<String>)> {
    let files = CloudFiles::load(env)?;
    let mut out: Vec<CloudChoice> =
        files.clouds.keys().map(|n| CloudChoice { name: n.clone(), source: "clouds.yaml".into() }).collect();
    if env("OS_AUTH_URL").is_some_and(|v| !v.is_empty()) {
        out.push(CloudChoice { name: "envvars".into(), source: "environment".into() });
    }
    let file = files.clouds_file.map(|p| p.display().to_string());
    Ok((out, file, env("OS_CLOUD").filter(|c| !c.is_empty())))
}

/// One session per cloud for the life of the process, so tokens and discovery are reused.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
}

impl Sessions {
    pub fn get(&self, name: &str) -> Result<Arc<Session>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(name) {
            return Ok(s.clone());
        }
        let env = |k: &str| std::env::var(k).ok();
        let cloud = if name == "envvars" {
            resolve(None, &serde_json::json!({}), &|k| if k == "OS_CLOUD" { None } else { env(k) })?
        } else {
            resolve(Some(name), &serde_json::json!({}), &env)?
        };
        let s = Arc::new(Session::new(cloud)?);
        map.insert(name.to_owned(), s.clone());
        Ok(s)
    }

    /// Forget a cloud's session (after its settings changed, or to retry from scratch).
    pub fn drop_session(&self, name: &str) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }
}
