//! The download engine (`image save`, the window's Download): stream an image's data from
//! Glance into a file or any writer, hashing as it goes, and check size, md5 `checksum` and
//! `os_hash_value` against what Glance recorded before the file takes its name.
//!
//! - A file is written as `.NAME.IMAGE-ID.part` beside the destination and renamed only once
//!   verified; a mismatch removes it and fails.
//! - A broken connection is answered with `Range: bytes=N-` for the rest (Glance 33 honours
//!   it: 206 with `Content-Range`), a few times; the hashes carry on over the break.
//! - An interrupted download (cancelled, or the connection stayed down) keeps its `.part`
//!   file; the same command later resumes it (the part is hashed again, then the rest asked
//!   for by `Range`), and the whole file is verified at the end.
//! - The free space of the destination's file system is checked before the first byte.
//!
//! Memory stays bounded: chunks go through a short queue to a writer thread that hashes and
//! writes them.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};
use tokio::sync::mpsc::{channel, Receiver, Sender};
use tokio_util::sync::CancellationToken;

use crate::openstack::image::{Image, ImageStatus};
use crate::openstack::retry::Backoff;
use crate::openstack::Session;
use crate::upload::{Error, Phase, Progress, ProgressFn, RateMeter, Result};

/// Where the data goes.
pub enum Target {
    /// A file, written through a `.part` file beside it.
    File(PathBuf),
    /// Any writer (stdout): written as it arrives; nothing to rename or remove.
    Stream(Box<dyn Write + Send>),
}

#[derive(Clone)]
pub struct SaveOptions {
    pub progress: Option<ProgressFn>,
    pub cancel: CancellationToken,
    /// How many times a broken download is picked up again with a `Range` request.
    pub resumes: u32,
    /// Pick up a `.part` file an earlier run left (default); off starts afresh.
    pub resume_partial: bool,
}

impl Default for SaveOptions {
    fn default() -> SaveOptions {
        SaveOptions { progress: None, cancel: CancellationToken::new(), resumes: 5, resume_partial: true }
    }
}

/// A verified download.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Saved {
    pub image_id: String,
    pub bytes: u64,
    pub md5: String,
    /// Glance's `os_hash_algo` and the value it was checked against (none when Glance recorded
    /// no hash, or one Stackdrop does not compute).
    pub hash: Option<(String, String)>,
    /// Bytes taken from an earlier run's `.part` file.
    pub resumed_from: u64,
    /// Broken connections picked up again with `Range`.
    pub resumes: u32,
    pub path: Option<PathBuf>,
}

/// The `.part` file a download to `dest` of image `id` is written to.
pub fn part_path(dest: &Path, id: &str) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    dest.with_file_name(format!(".{name}.{id}.part"))
}

/// Download `image`'s data to `target`, verified.
pub async fn save(s: &Session, image: &Image, target: Target, opts: &SaveOptions) -> Result<Saved> {
    if image.status != ImageStatus::Active {
        return Err(Error::Invalid(format!(
            "image {} is '{}': only an active image has data to download",
            image.id(),
            image.status()
        )));
    }
    let algo = image.os_hash_algo.clone().filter(|a| Hashes::computes(a));
    let (out, part, dest, from, hashes) = match target {
        Target::Stream(w) => (Out::Stream(w), None, None, 0, Hashes::new(algo.as_deref())),
        Target::File(dest) => {
            let part = part_path(&dest, image.id());
            let (p, img, a, resume) = (part.clone(), image.clone(), algo.clone(), opts.resume_partial);
            let (file, from, hashes) = tokio::task::spawn_blocking(move || open_part(&p, &img, a.as_deref(), resume))
                .await
                .map_err(|e| Error::Invalid(format!("cannot open the part file: {e}")))??;
            (Out::File(file), Some(part), Some(dest), from, hashes)
        }
    };
    let (tx, rx) = channel::<Msg>(QUEUE);
    let writer = std::thread::Builder::new()
        .name("stackdrop-write".into())
        .spawn(move || write_all(out, hashes, rx))
        .map_err(|e| Error::Invalid(format!("cannot start the writer: {e}")))?;
    let fetched = fetch(s, image, from, &tx, opts).await;
    drop(tx);
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| Err(io::Error::other("the writer thread failed")));
    let keep_or_remove = |e: Error, keep: bool| -> Error {
        match &part {
            Some(p) if keep && std::fs::metadata(p).is_ok_and(|m| m.len() > 0) => {
                Error::Partial { cause: Box::new(e), path: p.display().to_string() }
            }
            Some(p) => {
                let _ = std::fs::remove_file(p);
                e
            }
            None => e,
        }
    };
    let resumes = match fetched {
        Ok(n) => n,
        Err(e) => {
            // Whatever reached the writer is on disk: keep it for the next run.
            return Err(keep_or_remove(e, true));
        }
    };
    let (file, digests) = match written {
        Ok(w) => w,
        Err(e) => {
            let where_ = dest.as_ref().map_or("the output".to_owned(), |d| d.display().to_string());
            return Err(keep_or_remove(Error::File { path: where_, detail: e.to_string() }, false));
        }
    };
    if let Err(detail) = digests.check(image) {
        return Err(keep_or_remove(Error::Corrupt { image_id: image.id().into(), detail }, false));
    }
    if let (Some(file), Some(part), Some(dest)) = (file, &part, &dest) {
        let (p, d) = (part.clone(), dest.clone());
        let done = tokio::task::spawn_blocking(move || file.sync_all().and_then(|_| std::fs::rename(p, d)))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e.to_string())));
        if let Err(e) = done {
            return Err(keep_or_remove(Error::File { path: dest.display().to_string(), detail: e.to_string() }, false));
        }
    }
    Ok(Saved {
        image_id: image.id().into(),
        bytes: digests.bytes,
        md5: digests.md5,
        hash: digests.hash,
        resumed_from: from,
        resumes,
        path: dest,
    })
}

/// An image's data as a blocking reader (for a thread that sends it on, as `image copy`
/// does), and the download that feeds it, for the caller to drive. The download checks
/// nothing but the size; the reader's user hashes what it reads. A broken connection is
/// picked up again with `Range` as for [`save`]; a server that ignores the range fails the
/// read, since what was read cannot be taken back.
pub fn data_stream<'a>(
    s: &'a Session,
    image: &'a Image,
    opts: &'a SaveOptions,
) -> (impl std::future::Future<Output = Result<u32>> + 'a, DataReader) {
    let (tx, rx) = channel::<Msg>(QUEUE);
    (async move { fetch(s, image, 0, &tx, opts).await }, DataReader { rx, at: Bytes::new() })
}

/// See [`data_stream`]. Ends (reads 0) when the download ends, whether it succeeded or not.
pub struct DataReader {
    rx: Receiver<Msg>,
    at: Bytes,
}

impl Read for DataReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at.is_empty() {
            match self.rx.blocking_recv() {
                Some(Msg::Data(b)) => self.at = b,
                Some(Msg::Restart) => {
                    return Err(io::Error::other("Glance ignored a range request, and a copy cannot start over"))
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.at.len());
        buf[..n].copy_from_slice(&self.at.split_to(n));
        Ok(n)
    }
}

/// The `.part` file, opened for appending after what an earlier run wrote (hashed again), or
/// made afresh; and the free space checked for what is still to come.
fn open_part(part: &Path, image: &Image, algo: Option<&str>, resume: bool) -> Result<(File, u64, Hashes)> {
    let fail = |e: io::Error| Error::File { path: part.display().to_string(), detail: e.to_string() };
    let size = image.size();
    let mut hashes = Hashes::new(algo);
    let earlier = std::fs::symlink_metadata(part).ok().filter(|m| m.is_file()).map(|m| m.len());
    let mut from = 0;
    let mut file = match earlier {
        Some(len) if resume && size.is_none_or(|s| len <= s) && len > 0 => {
            let mut f = OpenOptions::new().read(true).write(true).open(part).map_err(fail)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).map_err(fail)?;
                if n == 0 {
                    break;
                }
                hashes.update(&buf[..n]);
            }
            from = hashes.bytes;
            f
        }
        _ => OpenOptions::new().write(true).create(true).truncate(true).open(part).map_err(fail)?,
    };
    file.seek(SeekFrom::Start(from)).map_err(fail)?;
    if let Some(size) = size {
        let dir = part.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if let Some(free) = free_space(dir) {
            let need = size - from;
            if need > free {
                drop(file);
                if from == 0 {
                    let _ = std::fs::remove_file(part);
                }
                return Err(Error::File {
                    path: dir.display().to_string(),
                    detail: format!("the image needs {need} more bytes and only {free} are free"),
                });
            }
        }
    }
    Ok((file, from, hashes))
}

/// Bytes free to an unprivileged user on the file system holding `dir`, where the platform
/// says.
#[cfg(unix)]
pub fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid statvfs to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(not(unix))]
pub fn free_space(_dir: &Path) -> Option<u64> {
    None
}

const QUEUE: usize = 16;

enum Msg {
    Data(Bytes),
    /// The server sent the whole image again (it ignored the range): start the output over.
    Restart,
}

enum Out {
    File(File),
    Stream(Box<dyn Write + Send>),
}

/// The writer thread: every chunk hashed and written, in order.
fn write_all(mut out: Out, mut hashes: Hashes, mut rx: Receiver<Msg>) -> io::Result<(Option<File>, Digests)> {
    let mut buffered = match &mut out {
        Out::File(f) => Box::new(io::BufWriter::with_capacity(1 << 20, f)) as Box<dyn Write>,
        Out::Stream(w) => Box::new(io::BufWriter::with_capacity(1 << 20, w)) as Box<dyn Write>,
    };
    let mut restarted = false;
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Data(b) => {
                hashes.update(&b);
                buffered.write_all(&b)?;
            }
            Msg::Restart => {
                restarted = true;
                break;
            }
        }
    }
    buffered.flush()?;
    drop(buffered);
    if !restarted {
        return Ok((into_file(out), hashes.finish()));
    }
    // Start over: only a file can be rewound.
    let Out::File(mut f) = out else {
        return Err(io::Error::other("the server ignored the range request and the output cannot be rewound"));
    };
    f.set_len(0)?;
    f.seek(SeekFrom::Start(0))?;
    write_all(Out::File(f), hashes.fresh(), rx)
}

fn into_file(out: Out) -> Option<File> {
    match out {
        Out::File(f) => Some(f),
        Out::Stream(_) => None,
    }
}

/// GET the data from `from` on, feeding the writer; a broken connection is picked up again
/// with `Range` up to `opts.resumes` times. Returns how many times it was.
async fn fetch(s: &Session, image: &Image, from: u64, tx: &Sender<Msg>, opts: &SaveOptions) -> Result<u32> {
    let total = image.size().unwrap_or(0);
    let mut at = from;
    let mut resumes = 0;
    let mut meter = RateMeter::new(Duration::from_secs(5));
    let report = |at: u64, rate: f64| {
        if let Some(p) = &opts.progress {
            p(&Progress {
                phase: Phase::Downloading,
                image_id: Some(image.id().into()),
                sent: at,
                total,
                rate,
                eta_secs: crate::upload::progress::eta(total.saturating_sub(at), rate),
                server_status: None,
            });
        }
    };
    report(at, 0.0);
    let mut last_report = Instant::now();
    loop {
        if total > 0 && at == total {
            return Ok(resumes);
        }
        let images = s.images();
        let got = tokio::select! {
            r = images.download(image.id(), at) => r,
            _ = opts.cancel.cancelled() => return Err(Error::Cancelled),
        };
        let broke = match got {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if status == 204 {
                    return Err(Error::Invalid(format!("Glance has no data for image {}", image.id())));
                }
                if at > 0 {
                    match (status, content_range_start(&resp)) {
                        (206, Some(start)) if start == at => {}
                        (206, other) => {
                            return Err(Error::Protocol(crate::openstack::Error::BadResponse {
                                url: resp.url().to_string(),
                                detail: format!("asked for bytes from {at}, got a range from {other:?}"),
                            }))
                        }
                        _ => {
                            // The whole image again: start the output over.
                            tracing::debug!("Glance ignored the range request: downloading from the start");
                            send(tx, Msg::Restart).await?;
                            at = 0;
                        }
                    }
                }
                let url = resp.url().to_string();
                let mut body = resp.bytes_stream();
                let mut broke = None;
                loop {
                    let next = tokio::select! {
                        n = body.next() => n,
                        _ = opts.cancel.cancelled() => return Err(Error::Cancelled),
                    };
                    match next {
                        None => break,
                        Some(Ok(chunk)) => {
                            at += chunk.len() as u64;
                            if total > 0 && at > total {
                                return Err(Error::Corrupt {
                                    image_id: image.id().into(),
                                    detail: format!("Glance sent more than the {total} bytes it recorded"),
                                });
                            }
                            let rate = meter.record(Instant::now(), at);
                            // A full queue waits for the disk.
                            send(tx, Msg::Data(chunk)).await?;
                            if last_report.elapsed() >= Duration::from_millis(100) {
                                last_report = Instant::now();
                                report(at, rate);
                            }
                        }
                        Some(Err(e)) => {
                            broke = Some(crate::openstack::http::transport_error(&url, &e));
                            break;
                        }
                    }
                }
                match broke {
                    None if total == 0 || at == total => {
                        report(at, 0.0);
                        return Ok(resumes);
                    }
                    // The body ended short without an error: the connection was cut.
                    None => crate::openstack::Error::Connection {
                        url,
                        detail: format!("the download ended after {at} of {total} bytes"),
                    },
                    Some(e) => e,
                }
            }
            Err(e) if crate::openstack::http::is_transient(&e) => e,
            Err(e) => return Err(e.into()),
        };
        if resumes >= opts.resumes {
            return Err(broke.into());
        }
        resumes += 1;
        tracing::debug!("download broke at {at} bytes ({broke}); asking for the rest");
        tokio::select! {
            _ = tokio::time::sleep(Backoff::DEFAULT.delay(resumes)) => {}
            _ = opts.cancel.cancelled() => return Err(Error::Cancelled),
        }
    }
}

async fn send(tx: &Sender<Msg>, m: Msg) -> Result<()> {
    // The writer stops taking only when writing failed; its error is reported after.
    tx.send(m).await.map_err(|_| Error::Invalid("the output could not be written".into()))
}

/// The start of a 206's `Content-Range: bytes START-END/SIZE`.
fn content_range_start(resp: &reqwest::Response) -> Option<u64> {
    let v = resp.headers().get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    v.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

/// md5 (Glance's `checksum`) and the one `os_hash_algo` this cloud uses.
#[derive(Clone)]
struct Hashes {
    md5: Md5,
    algo: Option<Algo>,
    bytes: u64,
}

#[derive(Clone)]
enum Algo {
    Sha256(String, Sha256),
    Sha512(String, Sha512),
}

struct Digests {
    bytes: u64,
    md5: String,
    hash: Option<(String, String)>,
}

impl Hashes {
    fn computes(algo: &str) -> bool {
        matches!(algo, "sha256" | "sha512")
    }

    fn new(algo: Option<&str>) -> Hashes {
        let algo = match algo {
            Some("sha256") => Some(Algo::Sha256("sha256".into(), Sha256::new())),
            Some("sha512") => Some(Algo::Sha512("sha512".into(), Sha512::new())),
            _ => None,
        };
        Hashes { md5: Md5::new(), algo, bytes: 0 }
    }

    fn fresh(&self) -> Hashes {
        let name = match &self.algo {
            Some(Algo::Sha256(..)) => Some("sha256"),
            Some(Algo::Sha512(..)) => Some("sha512"),
            None => None,
        };
        Hashes::new(name)
    }

    fn update(&mut self, b: &[u8]) {
        self.md5.update(b);
        match &mut self.algo {
            Some(Algo::Sha256(_, h)) => h.update(b),
            Some(Algo::Sha512(_, h)) => h.update(b),
            None => {}
        }
        self.bytes += b.len() as u64;
    }

    fn finish(self) -> Digests {
        let hash = match self.algo {
            Some(Algo::Sha256(n, h)) => Some((n, format!("{:x}", h.finalize()))),
            Some(Algo::Sha512(n, h)) => Some((n, format!("{:x}", h.finalize()))),
            None => None,
        };
        Digests { bytes: self.bytes, md5: format!("{:x}", self.md5.finalize()), hash }
    }
}

impl Digests {
    /// Against what Glance recorded: size, md5, and its own hash.
    fn check(&self, image: &Image) -> std::result::Result<(), String> {
        if let Some(size) = image.size() {
            if size != self.bytes {
                return Err(format!("{} bytes arrived, Glance recorded {size}", self.bytes));
            }
        }
        if let Some(c) = image.checksum.as_deref() {
            if c != self.md5 {
                return Err(format!("md5 {} differs from Glance's checksum {c}", self.md5));
            }
        }
        if let (Some((algo, ours)), Some(theirs)) = (&self.hash, image.os_hash_value.as_deref()) {
            if ours != theirs {
                return Err(format!("{algo} {ours} differs from Glance's {theirs}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(data: &[u8], algo: &str) -> Image {
        let mut h = Hashes::new(Some(algo));
        h.update(data);
        let d = h.finish();
        Image::from_value(
            json!({"id": "i", "status": "active", "size": data.len(), "checksum": d.md5,
                "os_hash_algo": algo, "os_hash_value": d.hash.map(|h| h.1)}),
            "-",
        )
        .unwrap()
    }

    #[test]
    fn digests_are_checked_against_glance() {
        let img = image(b"hello", "sha512");
        let mut h = Hashes::new(Some("sha512"));
        h.update(b"hel");
        h.update(b"lo");
        assert_eq!(h.clone().finish().check(&img), Ok(()));
        let mut bad = Hashes::new(Some("sha512"));
        bad.update(b"hellO");
        assert!(bad.finish().check(&img).unwrap_err().starts_with("md5 "));
        let mut short = Hashes::new(Some("sha512"));
        short.update(b"hell");
        assert_eq!(short.finish().check(&img).unwrap_err(), "4 bytes arrived, Glance recorded 5");
        // sha256 clouds are checked with sha256.
        let img = image(b"x", "sha256");
        let mut h = Hashes::new(Some("sha256"));
        h.update(b"x");
        assert_eq!(h.finish().check(&img), Ok(()));
    }

    #[test]
    fn a_part_file_is_hidden_beside_the_destination_and_named_for_the_image() {
        assert_eq!(part_path(Path::new("/d/cirros.img"), "ab-12"), PathBuf::from("/d/.cirros.img.ab-12.part"));
        assert_eq!(part_path(Path::new("x"), "../y"), PathBuf::from(".x.___y.part"));
    }

    #[test]
    fn an_earlier_part_is_hashed_and_resumed_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"0123456789";
        let img = image(data, "sha512");
        let part = dir.path().join(".f.i.part");
        std::fs::write(&part, &data[..4]).unwrap();
        let (mut f, from, mut h) = open_part(&part, &img, Some("sha512"), true).unwrap();
        assert_eq!(from, 4);
        f.write_all(&data[4..]).unwrap();
        h.update(&data[4..]);
        assert_eq!(h.finish().check(&img), Ok(()));
        assert_eq!(std::fs::read(&part).unwrap(), data);
        // A part longer than the image is not this image's: start over.
        std::fs::write(&part, b"0123456789abc").unwrap();
        let (_, from, _) = open_part(&part, &img, Some("sha512"), true).unwrap();
        assert_eq!(from, 0);
        assert_eq!(std::fs::metadata(&part).unwrap().len(), 0);
    }

    #[test]
    fn free_space_is_known_here() {
        assert!(free_space(Path::new(".")).is_some_and(|n| n > 0));
    }
}
