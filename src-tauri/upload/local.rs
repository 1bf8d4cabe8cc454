//! Local files a person offers for upload: what they are (by name and by their headers) and
//! whether they can be uploaded, before anything is sent.

use std::path::Path;

use serde::Serialize;

use super::open_file;
use crate::openstack::image::DiskFormat;

/// What a local file is, for the person who offers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Described {
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
    /// For a raw disk: the bytes in its allocated ranges (the rest are holes), which is at
    /// most what `--convert qcow2` sends as data.
    pub allocated: Option<u64>,
}

/// File-name extensions of disk images, and the disk format each suggests.
const FORMATS: &[(&str, DiskFormat)] = &[
    ("qcow2", DiskFormat::Qcow2),
    ("qcow", DiskFormat::Qcow2),
    ("img", DiskFormat::Raw),
    ("raw", DiskFormat::Raw),
    ("vmdk", DiskFormat::Vmdk),
    ("vhd", DiskFormat::Vhd),
    ("vpc", DiskFormat::Vhd),
    ("vhdx", DiskFormat::Vhdx),
    ("vdi", DiskFormat::Vdi),
    ("iso", DiskFormat::Iso),
    ("ploop", DiskFormat::Ploop),
];

/// The extensions of disk images (for a file dialog's filter).
pub fn image_extensions() -> impl Iterator<Item = &'static str> {
    FORMATS.iter().map(|(e, _)| *e)
}

/// Does the file name end in a disk-image extension?
pub fn is_image_extension(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    FORMATS.iter().any(|(e, _)| *e == ext)
}

/// The disk format an extension suggests.
pub fn format_from_extension(path: &Path) -> DiskFormat {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    FORMATS.iter().find(|(e, _)| *e == ext).map(|(_, f)| f.clone()).unwrap_or(DiskFormat::Raw)
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

/// Check a file the way the upload will (exists, regular, readable, not empty, headers Glance
/// would accept). Blocking file I/O.
pub fn describe(path: &Path) -> Described {
    let file_name =
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let mut disk_format = format_from_extension(path).to_string();
    let mut virtual_size = None;
    let mut allocated = None;
    let (size, refused) = match open_file(path) {
        Ok(f) => match crate::inspect::inspect_path(path) {
            Ok(found) => {
                disk_format = found.format.clone();
                virtual_size = found.virtual_size;
                if found.format == "raw" {
                    allocated = crate::convert::qcow2::allocated_bytes(&f.file, f.len).ok();
                }
                let why =
                    (!found.acceptable()).then(|| format!("Glance would refuse it: {}", found.refusals.join("; ")));
                (f.len, why)
            }
            Err(e) => (f.len, Some(format!("cannot read its headers: {e}"))),
        },
        Err(super::Error::File { detail, .. }) => (0, Some(detail)),
        Err(e) => (0, Some(e.to_string())),
    };
    Described { file_name, image_name: image_name(path), size, disk_format, virtual_size, refused, allocated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_file_is() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.img");
        std::fs::write(&good, b"data").unwrap();
        let d = describe(&good);
        assert_eq!((d.size, d.refused, d.disk_format.as_str(), d.virtual_size), (4, None, "raw", Some(4)));
        assert!(d.allocated.is_some_and(|a| a >= 4), "a raw disk's allocated bytes: {:?}", d.allocated);
        assert!(describe(dir.path()).refused.unwrap().contains("directory"));
        assert_eq!(describe(&dir.path().join("missing.img")).refused.as_deref(), Some("no such file"));
        let bad = dir.path().join("bad.qcow2");
        std::fs::write(&bad, b"QFI\xfb").unwrap();
        assert_eq!(describe(&bad).refused.as_deref(), Some("Glance would refuse it: the qcow2 header is truncated"));
    }

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
}
