//! What the app remembers between runs — window size and position, the last cloud, the
//! language, the number of parallel uploads, the last upload choices — in `settings.json`
//! beside the profile file. Nothing secret is ever put here. A missing or unreadable file
//! means defaults (and is rewritten on the next change).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use stackdrop::config::ProfileStore;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowGeometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub maximized: bool,
}

/// The upload queue's last choices (a profile's own defaults win over these). Tags and
/// properties are kept as the text typed (`a, b`; one `KEY=VALUE` per line).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadChoices {
    pub visibility: Option<String>,
    pub container_format: Option<String>,
    pub method: Option<String>,
    pub protected: Option<bool>,
    pub tags: Option<String>,
    pub properties: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lang: Option<String>,
    pub last_cloud: Option<String>,
    pub parallel: Option<usize>,
    pub window: Option<WindowGeometry>,
    /// The choices last used with any cloud (for a cloud that has none of its own yet).
    pub upload: UploadChoices,
    /// The choices last used with each cloud, by its name.
    pub upload_by_cloud: std::collections::BTreeMap<String, UploadChoices>,
}

impl Settings {
    /// A profile was renamed: what was remembered for it follows the new name.
    pub fn cloud_renamed(&mut self, from: &str, to: &str) {
        if let Some(c) = self.upload_by_cloud.remove(from) {
            self.upload_by_cloud.insert(to.to_owned(), c);
        }
        if self.last_cloud.as_deref() == Some(from) {
            self.last_cloud = Some(to.to_owned());
        }
    }

    /// A profile was deleted: nothing is kept under its name (a later profile of the same
    /// name starts afresh).
    pub fn cloud_removed(&mut self, name: &str) {
        self.upload_by_cloud.remove(name);
        if self.last_cloud.as_deref() == Some(name) {
            self.last_cloud = None;
        }
    }
}

#[derive(Debug, Clone)]
pub struct SettingsStore {
    path: PathBuf,
    writing: std::sync::Arc<std::sync::Mutex<()>>,
}

impl SettingsStore {
    pub fn beside(profiles: &ProfileStore) -> SettingsStore {
        SettingsStore { path: profiles.dir().join("settings.json"), writing: Default::default() }
    }

    #[cfg(test)]
    pub fn path(&self) -> &PathBuf {
        &self.path
    }

    pub fn load(&self) -> Settings {
        match stackdrop::safe_fs::read_capped(&self.path, stackdrop::safe_fs::MAX_SETTINGS_FILE) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{} is unreadable ({e}); using defaults", self.path.display());
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    /// Change and save (a temporary file renamed over the old one). Failures are logged:
    /// forgetting a window size is not worth interrupting anyone for.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Settings {
        // One writer at a time (the window-geometry writer and the commands), so that no
        // change is lost between another's load and save.
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = self.load();
        change(&mut s);
        let bytes = serde_json::to_vec_pretty(&s).unwrap_or_default();
        if let Err(e) = stackdrop::safe_fs::write_private(&self.path, &bytes) {
            tracing::warn!("cannot save {}: {e}", self.path.display());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_survives_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::beside(&ProfileStore::at(dir.path()));
        assert_eq!(store.load(), Settings::default());
        store.update(|s| {
            s.last_cloud = Some("lab".into());
            s.window = Some(WindowGeometry { x: 10, y: 20, width: 800, height: 600, maximized: false });
        });
        store.update(|s| s.lang = Some("ko".into()));
        let s = store.load();
        assert_eq!(s.last_cloud.as_deref(), Some("lab"));
        assert_eq!(s.window.unwrap().width, 800);
        assert_eq!(s.lang.as_deref(), Some("ko"));
        std::fs::write(store.path(), "{ not json").unwrap();
        assert_eq!(store.load(), Settings::default());
        store.update(|s| s.parallel = Some(3));
        assert_eq!(store.load().parallel, Some(3));
    }

    #[test]
    fn choices_follow_a_renamed_profile_and_go_with_a_deleted_one() {
        let tags = |t: &str| UploadChoices { tags: Some(t.into()), ..UploadChoices::default() };
        let mut s = Settings { last_cloud: Some("lab".into()), ..Settings::default() };
        s.upload_by_cloud.insert("lab".into(), tags("a"));
        s.upload_by_cloud.insert("other".into(), tags("b"));
        s.cloud_renamed("lab", "lab-east");
        assert_eq!(s.last_cloud.as_deref(), Some("lab-east"));
        assert_eq!(s.upload_by_cloud.get("lab-east"), Some(&tags("a")));
        assert!(!s.upload_by_cloud.contains_key("lab"));
        s.cloud_removed("lab-east");
        assert_eq!(s.last_cloud, None);
        assert_eq!(s.upload_by_cloud.keys().collect::<Vec<_>>(), ["other"]);
        // Renaming one that had nothing remembered changes nothing.
        s.cloud_renamed("none", "x");
        assert_eq!(s.upload_by_cloud.len(), 1);
    }
}
