//! Local files offered for upload (dropped on the window or picked in a dialog): what they are,
//! whether they can be uploaded, and a registry that hands the page an opaque handle instead
//! of a path, so the page can only ever name files the person offered.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::open_file;

/// A file as the page sees it: a handle, never the path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offered {
    /// Handle to pass back to start an upload; `None` when the file was refused.
    pub handle: Option<String>,
    /// The file's own name (no directories).
    pub file_name: String,
    /// A suggested image name: the file name without its disk-image extension.
    pub image_name: String,
    pub size: u64,
    /// Disk format found in the file's headers (the extension when it cannot be read).
    pub disk_format: String,
    /// The disk size the image describes, when its format says.
    pub virtual_size: Option<u64>,
    /// Why the file cannot be uploaded.
    pub refused: Option<String>,
}

const FORMATS: &[(&str, &str)] = &[
    ("qcow2", "qcow2"),
    ("qcow", "qcow2"),
    ("img", "raw"),
    ("raw", "raw"),
    ("vmdk", "vmdk"),
    ("vhd", "vhd"),
    ("vpc", "vhd"),
    ("vhdx", "vhdx"),
    ("vdi", "vdi"),
    ("iso", "iso"),
    ("ploop", "ploop"),
];

/// Does the file name end in a disk-image extension?
pub fn is_image_extension(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    FORMATS.iter().any(|(e, _)| *e == ext)
}

/// The disk format an extension suggests.
pub fn format_from_extension(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    FORMATS.iter().find(|(e, _)| *e == ext).map(|(_, f)| *f).unwrap_or("raw")
}

/// `cirros-0.6.1-x86_64-disk.qcow2` -> `cirros-0.6.1-x86_64-disk`; unknown extensions stay.
pub fn image_name(path: &Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if FORMATS.iter().any(|(e, _)| *e == ext) {
        path.file_stem().map(|f| f.to_string_lossy().into_owned()).unwrap_or(file)
    } else {
        file
    }
}

/// Check a file the way the upload will (exists, regular, readable, not empty).
pub fn describe(path: &Path) -> Offered {
    let file_name =
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let mut disk_format = format_from_extension(path).to_owned();
    let mut virtual_size = None;
    let (size, refused) = match open_file(path) {
        Ok(f) => match crate::inspect::inspect_path(path) {
            Ok(found) => {
                disk_format = found.format.clone();
                virtual_size = found.virtual_size;
                let why =
                    (!found.acceptable()).then(|| format!("Glance would refuse it: {}", found.refusals.join("; ")));
                (f.len, why)
            }
            Err(e) => (f.len, Some(format!("cannot read its headers: {e}"))),
        },
        Err(crate::openstack::Error::File { detail, .. }) => (0, Some(detail)),
        Err(e) => (0, Some(e.to_string())),
    };
    Offered { handle: None, file_name, image_name: image_name(path), size, disk_format, virtual_size, refused }
}

/// Paths the person offered, behind handles.
#[derive(Default)]
pub struct Registry {
    next: Mutex<(u64, HashMap<String, PathBuf>)>,
}

impl Registry {
    /// Describe each path; register the acceptable ones and give them handles.
    pub fn offer(&self, paths: &[PathBuf]) -> Vec<Offered> {
        let mut g = self.next.lock().unwrap_or_else(|e| e.into_inner());
        paths
            .iter()
            .map(|p| {
                let mut o = describe(p);
                if o.refused.is_none() {
                    g.0 += 1;
                    let handle = format!("f{}", g.0);
                    g.1.insert(handle.clone(), p.clone());
                    o.handle = Some(handle);
                }
                o
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
    fn names_and_formats_from_the_file_name() {
        let p = Path::new("/x/cirros-0.6.1-x86_64-disk.qcow2");
        assert_eq!(image_name(p), "cirros-0.6.1-x86_64-disk");
        assert_eq!(format_from_extension(p), "qcow2");
        assert_eq!(format_from_extension(Path::new("/x/Win.VHDX")), "vhdx");
        assert_eq!(format_from_extension(Path::new("/x/disk.img")), "raw");
        assert_eq!(image_name(Path::new("/x/notes.txt")), "notes.txt");
        assert_eq!(format_from_extension(Path::new("/x/notes.txt")), "raw");
    }

    #[test]
    fn only_good_files_get_handles() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.img");
        std::fs::write(&good, b"data").unwrap();
        let r = Registry::default();
        let out = r.offer(&[good.clone(), dir.path().to_owned(), dir.path().join("missing.img")]);
        assert_eq!(out[0].size, 4);
        assert_eq!(out[0].refused, None);
        assert_eq!((out[0].disk_format.as_str(), out[0].virtual_size), ("raw", Some(4)));
        let h = out[0].handle.clone().unwrap();
        assert_eq!(r.path(&h), Some(good));
        assert_eq!(out[1].handle, None);
        assert!(out[1].refused.as_deref().unwrap().contains("directory"));
        assert_eq!(out[2].refused.as_deref(), Some("no such file"));
        r.forget(&h);
        assert_eq!(r.path(&h), None);
        // A file Glance would refuse gets no handle, and the reason.
        let bad = dir.path().join("bad.qcow2");
        std::fs::write(&bad, b"QFI\xfb").unwrap();
        let out = r.offer(&[bad]);
        assert_eq!(out[0].handle, None);
        assert_eq!(out[0].refused.as_deref(), Some("Glance would refuse it: the qcow2 header is truncated"));
        // Handles are never reused.
        let again = r.offer(&[dir.path().join("a.img")]);
        assert_ne!(again[0].handle.as_deref(), Some(h.as_str()));
    }
}
