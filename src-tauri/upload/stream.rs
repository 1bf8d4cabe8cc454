//! The file as a request body: read in fixed chunks on a reader thread that hands each chunk
//! to the HTTP stack and to three hashing threads (md5, sha256, sha512, one each, sharing the
//! chunk rather than copying it), so the file is read once, hashing goes at the pace of the
//! slowest digest instead of the sum of all three, and memory stays bounded (at most about
//! `CHUNK * (2 * QUEUE + 2)` bytes in flight, whatever the file size).

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

/// How the reader hashes what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// md5, sha256 and sha512 one after another on the reader thread (before 2026-11-29; kept
    /// for the benchmark that compares the two, `bench/null_sink.rs`).
    OneThread,
    /// Each digest on its own thread over the same chunks.
    ThreadPerDigest,
}

/// The three digests computed at once, each on its own thread. Chunks are shared (`Bytes`), and
/// each thread takes at most `QUEUE` chunks ahead of the slowest, so memory stays bounded.
pub struct ParallelHasher {
    lanes: Vec<(std::sync::mpsc::SyncSender<Bytes>, std::thread::JoinHandle<String>)>,
    bytes: u64,
}

fn lane<D: Digest + Send + 'static>(name: &str) -> (std::sync::mpsc::SyncSender<Bytes>, std::thread::JoinHandle<String>)
where
    sha2::digest::Output<D>: std::fmt::LowerHex,
{
    let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(QUEUE);
    let thread = std::thread::Builder::new()
        .name(format!("stackdrop-{name}"))
        .spawn(move || {
            let mut d = D::new();
            for chunk in rx {
                d.update(&chunk);
            }
            format!("{:x}", d.finalize())
        })
        .expect("spawn a hashing thread");
    (tx, thread)
}

impl ParallelHasher {
    pub fn new() -> ParallelHasher {
        ParallelHasher { lanes: vec![lane::<Md5>("md5"), lane::<Sha256>("sha256"), lane::<Sha512>("sha512")], bytes: 0 }
    }

    /// Hand `chunk` to every digest (waits while the slowest is `QUEUE` chunks behind).
    pub fn update(&mut self, chunk: &Bytes) {
        for (tx, _) in &self.lanes {
            // A lane only stops early by panicking; finish() reports it.
            let _ = tx.send(chunk.clone());
        }
        self.bytes += chunk.len() as u64;
    }

    pub fn finish(self) -> io::Result<Digests> {
        let bytes = self.bytes;
        let mut hex = Vec::with_capacity(3);
        for (tx, thread) in self.lanes {
            drop(tx);
            hex.push(thread.join().map_err(|_| io::Error::other("a hashing thread failed"))?);
        }
        let [md5, sha256, sha512]: [String; 3] = hex.try_into().expect("three lanes");
        Ok(Digests { md5, sha256, sha512, bytes })
    }
}

impl Default for ParallelHasher {
    fn default() -> Self {
        ParallelHasher::new()
    }
}

/// Either way of hashing, behind one face for the reader.
enum AnyHasher {
    One(Box<Hasher>),
    Parallel(ParallelHasher),
}

impl AnyHasher {
    fn new(h: Hashing) -> AnyHasher {
        match h {
            Hashing::OneThread => AnyHasher::One(Box::default()),
            Hashing::ThreadPerDigest => AnyHasher::Parallel(ParallelHasher::new()),
        }
    }

    fn update(&mut self, chunk: &Bytes) {
        match self {
            AnyHasher::One(h) => h.update(chunk),
            AnyHasher::Parallel(h) => h.update(chunk),
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            AnyHasher::One(h) => h.bytes,
            AnyHasher::Parallel(h) => h.bytes,
        }
    }

    fn finish(self) -> io::Result<Digests> {
        match self {
            AnyHasher::One(h) => Ok(h.finish()),
            AnyHasher::Parallel(h) => h.finish(),
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
    file_body_hashed(file, len, Hashing::ThreadPerDigest)
}

/// [`file_body`], hashing the given way.
pub fn file_body_hashed(file: File, len: u64, hashing: Hashing) -> FileBody {
    let (mut lanes, digests) = file_chunks(file, len, hashing, 1);
    let TargetBody { body, sent } = target_body(lanes.pop().expect("one lane"));
    FileBody { body, sent, digests }
}

/// One target's share of a file read once for several: its request body, and the bytes handed
/// to its HTTP stack.
pub struct TargetBody {
    pub body: reqwest::Body,
    pub sent: Arc<AtomicU64>,
}

/// A file read once for `targets` uploads at the same time: a body for each, fed the same
/// chunks (shared, not copied), and the digests once the whole file was read. The reader goes
/// at the pace of the slowest target still sending; a target whose request ends early (failed,
/// stalled, cancelled) drops out without stopping the others.
pub fn fan_out_bodies(
    file: File,
    len: u64,
    targets: usize,
) -> (Vec<TargetBody>, oneshot::Receiver<io::Result<Digests>>) {
    let (lanes, digests) = file_chunks(file, len, Hashing::ThreadPerDigest, targets);
    (lanes.into_iter().map(target_body).collect(), digests)
}

/// [`fan_out_bodies`] over any reader that yields exactly `len` bytes (another Glance's
/// image data, for a copy), read from its current position.
pub fn fan_out_reader(
    reader: impl Read + Send + 'static,
    len: u64,
    targets: usize,
) -> (Vec<TargetBody>, oneshot::Receiver<io::Result<Digests>>) {
    let (lanes, digests) = chunks(reader, len, Hashing::ThreadPerDigest, targets);
    (lanes.into_iter().map(target_body).collect(), digests)
}

fn target_body(mut rx: mpsc::Receiver<io::Result<Bytes>>) -> TargetBody {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let stream = futures_util::stream::poll_fn(move |cx| {
        let item = rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(Ok(chunk))) = &item {
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        item
    });
    TargetBody { body: reqwest::Body::wrap_stream(stream), sent }
}

type Lanes = (Vec<mpsc::Receiver<io::Result<Bytes>>>, oneshot::Receiver<io::Result<Digests>>);

/// The reader thread over a file, from its start whatever reads came before (Windows'
/// positioned reads move the cursor).
fn file_chunks(mut file: File, len: u64, hashing: Hashing, lanes: usize) -> Lanes {
    match io::Seek::seek(&mut file, io::SeekFrom::Start(0)) {
        Ok(_) => chunks(file, len, hashing, lanes),
        Err(e) => chunks(Failing(Some(e)), len, hashing, lanes),
    }
}

/// A reader whose first read fails with the error it holds.
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.take().unwrap_or_else(|| io::Error::other("read failed")))
    }
}

/// The reader thread: chunks of `reader` in order to every lane, then an error item if
/// reading failed.
fn chunks(mut reader: impl Read + Send + 'static, len: u64, hashing: Hashing, lanes: usize) -> Lanes {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..lanes).map(|_| mpsc::channel::<io::Result<Bytes>>(QUEUE)).unzip();
    let (done_tx, done_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("stackdrop-read".into())
        .spawn(move || {
            let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
            let result = pump(&mut reader, len, hashing, &mut txs);
            if let Err(e) = &result {
                // Fail the bodies so the requests are aborted rather than sent short.
                for tx in txs.iter().flatten() {
                    let _ = tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
                }
            }
            let _ = done_tx.send(result);
        })
        .expect("spawn reader thread");
    (rxs, done_rx)
}

/// Read and hash `reader`, every chunk to every live lane; a lane whose body was dropped (its
/// request ended) is let go. Stops when none is left.
fn pump(
    file: &mut impl Read,
    len: u64,
    hashing: Hashing,
    txs: &mut [Option<mpsc::Sender<io::Result<Bytes>>>],
) -> io::Result<Digests> {
    let mut h = AnyHasher::new(hashing);
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
        let chunk = Bytes::from(buf);
        h.update(&chunk);
        if h.bytes() > len {
            return Err(io::Error::other(format!("the file grew while it was being sent (more than {len} bytes)")));
        }
        for lane in txs.iter_mut() {
            if lane.as_ref().is_some_and(|tx| tx.blocking_send(Ok(chunk.clone())).is_err()) {
                // That request was dropped (cancel or failure): the others go on.
                *lane = None;
            }
        }
        if txs.iter().all(Option::is_none) {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "upload stopped"));
        }
    }
    if h.bytes() != len {
        return Err(io::Error::other(format!(
            "the file shrank while it was being sent ({} of {len} bytes)",
            h.bytes()
        )));
    }
    h.finish()
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
        let mut h = Hasher::default();
        h.update(&data);
        let want = h.finish();
        // Both ways of hashing give the same digests of the same bytes.
        for hashing in [Hashing::ThreadPerDigest, Hashing::OneThread] {
            let (mut lanes, digests) = file_chunks(File::open(&path).unwrap(), data.len() as u64, hashing, 1);
            assert_eq!(collect(lanes.pop().unwrap()).await.unwrap(), data);
            assert_eq!(digests.await.unwrap().unwrap(), want, "{hashing:?}");
        }
    }

    #[test]
    fn the_parallel_hasher_matches_the_known_digests() {
        let mut p = ParallelHasher::new();
        p.update(&Bytes::from_static(b"ab"));
        p.update(&Bytes::from_static(b"c"));
        let d = p.finish().unwrap();
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(d.sha512.starts_with("ddaf35a193617aba"));
        assert_eq!(d.bytes, 3);
        // Nothing fed: the digests of the empty string.
        assert_eq!(ParallelHasher::new().finish().unwrap().md5, "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[tokio::test]
    async fn a_file_shorter_than_announced_fails_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        let (mut lanes, digests) = file_chunks(File::open(&path).unwrap(), 10, Hashing::ThreadPerDigest, 1);
        assert!(collect(lanes.pop().unwrap()).await.is_err(), "the body must fail, not end short");
        let e = digests.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("shrank"), "{e}");
    }

    /// A lane's bytes, or its first error.
    async fn collect(mut lane: mpsc::Receiver<io::Result<Bytes>>) -> Result<Vec<u8>, String> {
        let mut got = Vec::new();
        while let Some(chunk) = lane.recv().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            assert!(chunk.len() <= CHUNK);
            got.extend_from_slice(&chunk);
        }
        Ok(got)
    }

    #[tokio::test]
    async fn one_read_feeds_every_target_and_a_target_that_stops_lets_the_others_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 3 + 7)).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let (mut lanes, digests) =
            file_chunks(File::open(&path).unwrap(), data.len() as u64, Hashing::ThreadPerDigest, 3);
        // The third target gives up at once (its request failed): the reader lets it go.
        drop(lanes.pop());
        let (a, b) = (lanes.remove(0), lanes.remove(0));
        let (got_a, got_b) = tokio::join!(collect(a), collect(b));
        assert_eq!(got_a.unwrap(), data);
        assert_eq!(got_b.unwrap(), data);
        let mut h = Hasher::default();
        h.update(&data);
        assert_eq!(digests.await.unwrap().unwrap(), h.finish());
    }

    #[tokio::test]
    async fn when_every_target_stops_the_reader_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; CHUNK * 20]).unwrap();
        let (bodies, digests) = fan_out_bodies(File::open(&path).unwrap(), (CHUNK * 20) as u64, 2);
        drop(bodies);
        let e = digests.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }
}
