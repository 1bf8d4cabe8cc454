//! The file as a request body: read in fixed chunks on a reader thread that also feeds md5,
//! sha256 and sha512, so the file is read once and memory stays bounded (at most
//! `CHUNK * (QUEUE + 2)` bytes in flight, whatever the file size).

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};
use tokio::sync::{mpsc, oneshot};

pub const CHUNK: usize = 1 << 20;
const QUEUE: usize = 4;

/// The three digests of everything that was read, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digests {
    pub md5: String,
    pub sha256: String,
    pub sha512: String,
    pub bytes: u64,
}

impl Digests {
    /// The digest for a Glance `os_hash_algo`, when we computed that one.
    pub fn for_algo(&self, algo: &str) -> Option<&str> {
        match algo {
            "sha512" => Some(&self.sha512),
            "sha256" => Some(&self.sha256),
            "md5" => Some(&self.md5),
            _ => None,
        }
    }
}

/// Hashes everything fed to it, three ways at once.
#[derive(Default, Clone)]
pub struct Hasher {
    md5: Md5,
    sha256: Sha256,
    sha512: Sha512,
    bytes: u64,
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sha256.update(data);
        self.sha512.update(data);
        self.bytes += data.len() as u64;
    }

    pub fn finish(self) -> Digests {
        Digests {
            md5: format!("{:x}", self.md5.finalize()),
            sha256: format!("{:x}", self.sha256.finalize()),
            sha512: format!("{:x}", self.sha512.finalize()),
            bytes: self.bytes,
        }
    }
}

/// A body stream over `file` (expected to hold exactly `len` bytes), the counter of bytes
/// handed to the HTTP stack, and the digests once the whole file was read.
pub struct FileBody {
    pub body: reqwest::Body,
    pub sent: Arc<AtomicU64>,
    pub digests: oneshot::Receiver<io::Result<Digests>>,
}

pub fn file_body(file: File, len: u64) -> FileBody {
    let (mut rx, digests) = file_chunks(file, len);
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let stream = futures_util::stream::poll_fn(move |cx| {
        let item = rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(Ok(chunk))) = &item {
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        item
    });
    FileBody { body: reqwest::Body::wrap_stream(stream), sent, digests }
}

type Chunks = (mpsc::Receiver<io::Result<Bytes>>, oneshot::Receiver<io::Result<Digests>>);

/// The reader thread: chunks of the file in order, then an error item if reading failed.
fn file_chunks(mut file: File, len: u64) -> Chunks {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(QUEUE);
    let (done_tx, done_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("stackdrop-read".into())
        .spawn(move || {
            let result = pump(&mut file, len, &tx);
            if let Err(e) = &result {
                // Fail the body so the request is aborted rather than sent short.
                let _ = tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
            }
            let _ = done_tx.send(result);
        })
        .expect("spawn reader thread");
    (rx, done_rx)
}

fn pump(file: &mut File, len: u64, tx: &mpsc::Sender<io::Result<Bytes>>) -> io::Result<Digests> {
    // From the start, whatever reads came before (Windows' positioned reads move the cursor).
    io::Seek::seek(file, io::SeekFrom::Start(0))?;
    let mut h = Hasher::default();
    loop {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        buf.truncate(filled);
        h.update(&buf);
        if h.bytes > len {
            return Err(io::Error::other(format!("the file grew while it was being sent (more than {len} bytes)")));
        }
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
            // The request was dropped (cancel or failure): stop reading.
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "upload stopped"));
        }
    }
    if h.bytes != len {
        return Err(io::Error::other(format!("the file shrank while it was being sent ({} of {len} bytes)", h.bytes)));
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc() {
        let mut h = Hasher::default();
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(d.sha512.starts_with("ddaf35a193617aba"));
        assert_eq!(d.bytes, 3);
        assert_eq!(d.for_algo("sha512"), Some(d.sha512.as_str()));
        assert_eq!(d.for_algo("sha3_512"), None);
    }

    #[tokio::test]
    async fn streams_the_whole_file_and_hashes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 123)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let (mut rx, digests) = file_chunks(File::open(&path).unwrap(), data.len() as u64);
        let mut got = Vec::new();
        while let Some(chunk) = rx.recv().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= CHUNK);
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, data);
        let d = digests.await.unwrap().unwrap();
        let mut h = Hasher::default();
        h.update(&data);
        assert_eq!(d, h.finish());
    }

    #[tokio::test]
    async fn a_file_shorter_than_announced_fails_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        let (mut rx, digests) = file_chunks(File::open(&path).unwrap(), 10);
        let mut saw_error = false;
        while let Some(chunk) = rx.recv().await {
            saw_error |= chunk.is_err();
        }
        assert!(saw_error);
        let e = digests.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("shrank"), "{e}");
    }
}
