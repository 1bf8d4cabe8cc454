//! The local file: opened once, checked, its headers read, before anything is created.

use std::path::{Path, PathBuf};

use super::error::{Error, Result};

use super::ImageSpec;

/// An opened, checked local file.
pub struct LocalFile {
    pub path: PathBuf,
    pub file: std::fs::File,
    pub len: u64,
    /// Its modification time when opened: a change during the upload is caught.
    pub modified: Option<std::time::SystemTime>,
}

impl LocalFile {
    /// Has the opened file changed since it was opened (size or modification time)? Asked of
    /// the same descriptor, so a rename over the path does not fool it.
    pub fn changed_since_open(file: &std::fs::File, len: u64, modified: Option<std::time::SystemTime>) -> bool {
        match file.metadata() {
            Ok(m) => m.len() != len || m.modified().ok() != modified,
            Err(_) => true,
        }
    }
}

/// Open `path` for upload, refusing what cannot be an image, before anything is created.
pub fn open_file(path: &Path) -> Result<LocalFile> {
    let fail = |detail: String| Error::File { path: path.display().to_string(), detail };
    // Opened once, checked on that descriptor (no FIFO can hang it, no device is read), and
    // streamed from it: nothing can swap the file between the check and the upload.
    let (file, meta) = crate::safe_fs::open_regular(path).map_err(|e| fail(io_words(&e)))?;
    if meta.len() == 0 {
        return Err(fail("the file is empty".into()));
    }
    Ok(LocalFile { path: path.to_owned(), file, len: meta.len(), modified: meta.modified().ok() })
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (cannot read it)".into(),
        _ => e.to_string(),
    }
}

/// Read the file's headers and settle the disk format before anything is created: an empty
/// `disk_format` becomes the detected one; a declared one must match the data (see
/// [`crate::inspect::check_declared`]); anything Glance would refuse stops here.
pub fn prepare(spec: &mut ImageSpec, path: &Path, force: bool) -> Result<crate::inspect::Inspection> {
    open_and_prepare(spec, path, force).map(|(found, _)| found)
}

/// [`prepare`], keeping the opened file for the upload. Blocking file I/O: call it off the
/// async runtime.
pub(super) fn open_and_prepare(
    spec: &mut ImageSpec,
    path: &Path,
    force: bool,
) -> Result<(crate::inspect::Inspection, LocalFile)> {
    let local = open_file(path)?;
    let mut src = crate::inspect::FileSource::from_file(local.file, local.len);
    let found = crate::inspect::inspect(&mut src)
        .map_err(|e| Error::File { path: path.display().to_string(), detail: io_words(&e) })?;
    let local = LocalFile { file: src.into_file(), ..local };
    let mut reasons = found.refusals.clone();
    if spec.disk_format.is_empty() {
        spec.disk_format = found.format.clone();
    } else if spec.container_format == "bare" || spec.container_format.is_empty() {
        if let Err(why) = crate::inspect::check_declared(&found.format, &spec.disk_format, force) {
            reasons.push(why);
        }
    }
    if reasons.is_empty() {
        Ok((found, local))
    } else {
        Err(Error::Refused { path: path.display().to_string(), reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_and_odd_files_are_refused_before_anything() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_file(dir.path()).err().unwrap().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = open_file(&dir.path().join("missing.qcow2")).err().unwrap().to_string();
        assert!(e.contains("no such file"), "{e}");
        let empty = dir.path().join("empty.img");
        std::fs::write(&empty, b"").unwrap();
        assert!(open_file(&empty).err().unwrap().to_string().contains("empty"));
    }
}
