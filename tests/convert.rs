//! `--convert qcow2`: a raw disk turned into a qcow2 while it streams. Every file produced is
//! checked by qemu itself (`qemu-img check`: no errors, no leaks; `qemu-img compare`: the same
//! content as the raw disk) and by Stackdrop's own inspector; the lab test uploads one, lets
//! the lab's Glance inspect it, downloads it and compares it again.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use stackdrop::convert::qcow2::{Plan, Qcow2Reader, CLUSTER};
use support::lab::{command, lab, random_file, session, stderr, stdout, unique, Layout};

/// Write `data` at each offset of a sparse file of `len` bytes (the rest are holes).
fn sparse_with(dir: &Path, name: &str, len: u64, writes: &[(u64, &[u8])]) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.set_len(len).unwrap();
    for (at, data) in writes {
        f.seek(SeekFrom::Start(*at)).unwrap();
        f.write_all(data).unwrap();
    }
    p
}

fn noise(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1).collect()
}

/// Convert `raw` through the stream into a file beside it; the plan and the file.
fn convert(raw: &Path) -> (Plan, PathBuf) {
    convert_with(raw, false)
}

fn convert_with(raw: &Path, compress: bool) -> (Plan, PathBuf) {
    let f = std::fs::File::open(raw).unwrap();
    let len = f.metadata().unwrap().len();
    let plan = Plan::scan_with(&f, len, compress).unwrap();
    let out = raw.with_extension("qcow2");
    let mut reader = Qcow2Reader::new(plan.clone(), f);
    let written = std::io::copy(&mut reader, &mut std::fs::File::create(&out).unwrap()).unwrap();
    assert_eq!(written, plan.len(), "the stream is exactly as long as announced");
    (plan, out)
}

/// qemu's verdicts: check finds nothing wrong, compare finds the same content.
fn qemu_agrees(raw: &Path, qcow2: &Path) {
    let check = Command::new("qemu-img").arg("check").arg("-f").arg("qcow2").arg(qcow2).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && said.contains("No errors were found"), "qemu-img check: {said}");
    let compare =
        Command::new("qemu-img").args(["compare", "-f", "raw", "-F", "qcow2"]).arg(raw).arg(qcow2).output().unwrap();
    assert!(compare.status.success(), "qemu-img compare: {}", String::from_utf8_lossy(&compare.stdout));
    let info = Command::new("qemu-img").args(["info", "--output=json"]).arg(qcow2).output().unwrap();
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    let raw_len = std::fs::metadata(raw).unwrap().len();
    assert_eq!(info["virtual-size"], raw_len.div_ceil(512) * 512, "{info}");
    // Stackdrop's own inspector (the one that checks uploads) takes it as a clean qcow2.
    let found = stackdrop::inspect::inspect_path(qcow2).unwrap();
    assert_eq!(found.format, "qcow2");
    assert!(found.refusals.is_empty(), "{:?}", found.refusals);
}

#[test]
fn a_sparse_disk_whose_size_is_not_a_whole_number_of_clusters() {
    let dir = tempfile::tempdir().unwrap();
    // 5 MiB + 1234 bytes: data across a cluster boundary, written zeros (which must not be
    // sent), and data in the last, partial sector.
    let len = (5 << 20) + 1234;
    let raw = sparse_with(
        dir.path(),
        "odd.raw",
        len,
        &[(CLUSTER - 100, &noise(300, 1)), (3 << 20, &vec![0u8; 256 << 10]), (len - 10, &noise(10, 2))],
    );
    let (plan, out) = convert(&raw);
    assert_eq!(plan.data_bytes(), 3 * CLUSTER, "two clusters for the boundary, one for the tail; no zeros");
    assert_eq!(plan.virtual_size, len.div_ceil(512) * 512);
    qemu_agrees(&raw, &out);
}

#[test]
fn a_disk_full_of_data_and_disks_of_nothing_but_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let full = random_file(dir.path(), "full.raw", 3 << 20);
    let (plan, out) = convert(&full);
    assert_eq!(plan.data_bytes(), 3 << 20);
    assert!(plan.len() > 3 << 20, "every byte sent, and the tables");
    qemu_agrees(&full, &out);

    // All holes, and all written zeros: only the header, tables and refcounts.
    let holes = sparse_with(dir.path(), "holes.raw", 10 << 20, &[]);
    let zeros = dir.path().join("zeros.raw");
    std::fs::write(&zeros, vec![0u8; 2 << 20]).unwrap();
    for raw in [holes, zeros] {
        let (plan, out) = convert(&raw);
        assert_eq!(plan.data_bytes(), 0);
        assert_eq!(plan.len(), 4 * CLUSTER, "{}", raw.display());
        qemu_agrees(&raw, &out);
    }
}

#[test]
fn a_64_gib_disk_that_is_mostly_empty_streams_from_a_small_map() {
    let dir = tempfile::tempdir().unwrap();
    let len = 64u64 << 30;
    let raw = sparse_with(
        dir.path(),
        "big.raw",
        len,
        &[(0, &noise(4096, 3)), (17 << 30, &noise(1 << 20, 4)), (len - 512, &noise(512, 5))],
    );
    let (plan, out) = convert(&raw);
    assert_eq!(plan.data_bytes(), CLUSTER + (1 << 20) + CLUSTER);
    // 64 GiB: 128 L1 entries, 3 L2 tables, header, L1, refcount table and block, the data.
    assert_eq!(plan.len(), (4 + 3) * CLUSTER + plan.data_bytes());
    assert!(std::fs::metadata(&out).unwrap().len() < 2 << 20);
    qemu_agrees(&raw, &out);
}

#[test]
fn compressed_clusters_as_qemu_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    // Compressible data (a pattern), data deflate cannot shrink (random), a short piece at the
    // end of a size that is not a whole number of clusters, and holes between.
    let pattern: Vec<u8> =
        b"stackdrop sends the data, not the zeros. ".iter().cycle().take(300 << 10).copied().collect();
    let random = std::fs::read(random_file(dir.path(), "r.bin", 200 << 10)).unwrap();
    let len = (7 << 20) + 512;
    let raw =
        sparse_with(dir.path(), "c.raw", len, &[(100, &pattern), (2 << 20, &random), (len - 1000, &pattern[..1000])]);
    let (plain, _) = convert(&raw);
    let (plan, out) = convert_with(&raw, true);
    assert!(plan.compressed());
    assert_eq!(plan.data_bytes(), plain.data_bytes(), "the same clusters hold data");
    assert!(plan.len() < plain.len(), "{} compressed, {} not", plan.len(), plain.len());
    qemu_agrees(&raw, &out);
    let check = Command::new("qemu-img").args(["check", "-f", "qcow2"]).arg(&out).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(!said.contains(" 0.00% compressed clusters"), "{said}");
}

/// Upload `raw` to the plain lab with `--convert qcow2` and `more` flags, download the image
/// again, let qemu compare it with `raw`, delete it; the image as `image create` showed it.
async fn round_trip(plain: &support::lab::Lab, raw: &Path, name: &str, more: &[&str]) -> Value {
    let mut args = vec!["--os-cloud", "lab", "image", "create", "--file", raw.to_str().unwrap(), name];
    args.extend(["--convert", "qcow2", "-f", "json"]);
    args.extend(more);
    let o = command(plain, &args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let img: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let id = img["id"].as_str().unwrap().to_owned();
    let back = raw.with_extension("back.qcow2");
    let o = command(plain, &["--os-cloud", "lab", "image", "save", "--file", back.to_str().unwrap(), &id])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    qemu_agrees(raw, &back);
    session(plain, "lab").images().delete(&id).await.unwrap();
    img
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn the_lab_takes_a_converted_disk_and_gives_back_the_same_content() {
    let plain = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("convert");
    let raw =
        sparse_with(dir.path(), "disk.raw", 256 << 20, &[(1 << 20, &noise(3 << 20, 6)), (200 << 20, &noise(5000, 7))]);
    let img = round_trip(&plain, &raw, &name, &[]).await;
    // Glance's own inspector read it as qcow2 of the disk's size; only the data was sent.
    assert_eq!(img["disk_format"], "qcow2");
    assert_eq!(img["virtual_size"], 256 << 20);
    let sent = img["size"].as_u64().unwrap();
    assert!(sent < 4 << 20, "{sent} bytes sent for 3 MiB of data");

    // Compressed clusters too: fewer bytes still, and Glance reads them as well.
    let pattern: Vec<u8> = b"compressible ".iter().cycle().take(2 << 20).copied().collect();
    let raw = sparse_with(dir.path(), "z.raw", 64 << 20, &[(4 << 20, &pattern)]);
    let img = round_trip(&plain, &raw, &unique("convert-z"), &["--compress"]).await;
    assert!(img["size"].as_u64().unwrap() < 1 << 20, "2 MiB of a pattern deflated: {}", img["size"]);

    // A disk that is not raw is refused before anything is made.
    let q = support::lab::qcow2(dir.path(), "already", 1);
    let o = command(
        &plain,
        &["--os-cloud", "lab", "image", "create", "--file", q.to_str().unwrap(), &name, "--convert", "qcow2"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("it is qcow2, not a raw disk"), "{}", stderr(&o));
    assert!(support::lab::images_named(&plain, &name).await.is_empty());
}
