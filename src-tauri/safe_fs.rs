//! Local files, read and written with care. Every file Stackdrop reads is opened once without
//! blocking (a FIFO or a device cannot hang the open), checked on that same descriptor to be
//! a regular file, and — for settings — read with a size cap. Settings files are written
//! privately and whole: a uniquely named temporary file (0600) in a directory created 0700,
//! synced, renamed over the old file, and the directory synced.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// The most a settings file (clouds.yaml, secure.yaml, profiles.yaml, settings.json, an
/// openrc) may hold: real ones are a few KiB.
pub const MAX_SETTINGS_FILE: u64 = 4 << 20;

/// Open `path` for reading and check, on the opened descriptor, that it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO would block the open until a writer comes; O_NONBLOCK changes nothing for a
        // regular file's reads.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::other("it is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file (a device, a pipe or a socket)"));
    }
    Ok((file, meta))
}

/// A whole settings file, at most `cap` bytes, from a regular file.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let too_large = || io::Error::other(format!("it is larger than {} MiB, too large for a settings file", cap >> 20));
    let (file, meta) = open_regular(path)?;
    if meta.len() > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the check: read one byte past the cap to see it.
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Replace `path` with `bytes`, privately (0600 in a directory created 0700) and whole: a
/// reader sees the old file or the new one, never half of either, and two writers never share
/// a temporary file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    // tempfile creates it 0600 with a random name, and removes it if anything below fails.
    let mut tmp = tempfile::Builder::new().prefix(".stackdrop-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn devices_folders_and_fifos_are_refused_without_hanging() {
        let e = read_capped(Path::new("/dev/zero"), MAX_SETTINGS_FILE).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = open_regular(dir.path()).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        #[cfg(unix)]
        {
            // A FIFO with no writer: a blocking open would wait forever.
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send(read_capped(&fifo, MAX_SETTINGS_FILE).map(drop)).unwrap());
            let e = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the open must not hang").unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
    }

    #[test]
    fn a_settings_file_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("clouds.yaml");
        std::fs::write(&p, vec![b'#'; 2048]).unwrap();
        assert_eq!(read_capped(&p, 2048).unwrap().len(), 2048);
        let e = read_capped(&p, 1024).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn written_privately_whole_and_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("new").join("profiles.yaml");
        write_private(&p, b"one").unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "no temporary file left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |q: &Path| std::fs::metadata(q).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(p.parent().unwrap()), 0o700);
        }
    }
}
