//! Files come in by drag-and-drop (see `run`) or through the native dialog. The page gets an
//! opaque handle for each, never a path, so it can only ever name files the person offered.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;
use stackdrop::upload::local::{describe, Described};
use tauri::State;

use super::{blocking, AppState, CmdResult};

/// The native file dialog (rfd, GTK on Linux). Async: a dialog on the main thread would block.
#[tauri::command]
pub async fn files_pick(state: State<'_, AppState>) -> CmdResult<Vec<Offered>> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Choose disk images")
        .add_filter("Disk images", &stackdrop::upload::local::image_extensions().collect::<Vec<_>>())
        .add_filter("All files", &["*"])
        .pick_files()
        .await
        .unwrap_or_default();
    let paths: Vec<_> = picked.iter().map(|f| f.path().to_owned()).collect();
    let files = state.files.clone();
    blocking(move || Ok(files.offer(&paths))).await
}

#[tauri::command]
pub async fn files_forget(state: State<'_, AppState>, handle: String) -> CmdResult<()> {
    state.files.forget(&handle);
    Ok(())
}

/// A file as the page sees it: a handle, never the path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offered {
    /// Handle to pass back to start an upload; `None` when the file was refused.
    pub handle: Option<String>,
    #[serde(flatten)]
    pub file: Described,
}

/// Paths the person offered, behind handles.
#[derive(Default)]
pub struct Registry {
    next: Mutex<(u64, HashMap<String, PathBuf>)>,
}

impl Registry {
    /// Describe each path (file I/O, with no lock held); give the acceptable ones handles.
    pub fn offer(&self, paths: &[PathBuf]) -> Vec<Offered> {
        let described: Vec<Described> = paths.iter().map(|p| describe(p)).collect();
        let mut g = self.next.lock().unwrap_or_else(|e| e.into_inner());
        paths
            .iter()
            .zip(described)
            .map(|(p, file)| {
                let handle = file.refused.is_none().then(|| {
                    g.0 += 1;
                    let handle = format!("f{}", g.0);
                    g.1.insert(handle.clone(), p.clone());
                    handle
                });
                Offered { handle, file }
            })
            .collect()
    }

    pub fn path(&self, handle: &str) -> Option<PathBuf> {
        self.next.lock().unwrap_or_else(|e| e.into_inner()).1.get(handle).cloned()
    }

    pub fn forget(&self, handle: &str) {
        self.next.lock().unwrap_or_else(|e| e.into_inner()).1.remove(handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_good_files_get_handles_and_handles_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.img");
        std::fs::write(&good, b"data").unwrap();
        let r = Registry::default();
        let out = r.offer(&[good.clone(), dir.path().to_owned()]);
        let h = out[0].handle.clone().unwrap();
        assert_eq!(r.path(&h), Some(good));
        assert_eq!(out[1].handle, None);
        assert!(out[1].file.refused.is_some());
        let json = serde_json::to_value(&out[0]).unwrap();
        assert_eq!((json["handle"].as_str(), json["file_name"].as_str()), (Some(h.as_str()), Some("a.img")));
        r.forget(&h);
        assert_eq!(r.path(&h), None);
        let again = r.offer(&[dir.path().join("a.img")]);
        assert_ne!(again[0].handle.as_deref(), Some(h.as_str()));
    }
}
