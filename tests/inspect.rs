//! Disk-image inspection on real files made by qemu-img (and xorriso), checked against
//! `qemu-img info --output=json`, and — when the lab runs — against Glance's own verdict.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use stackdrop::inspect::{inspect_path, Inspection};
use stackdrop::upload::ImageSpec;
use support::lab::{images_named, lab, session, unique, Layout};

struct Fixture {
    name: &'static str,
    path: PathBuf,
    format: &'static str,
    acceptable: bool,
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).current_dir(dir).output().expect(args[0]);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every kind of file the issue names, made fresh in `dir`.
fn fixtures(dir: &Path) -> Vec<Fixture> {
    let q = |args: &[&str]| {
        let mut v = vec!["qemu-img"];
        v.extend_from_slice(args);
        run(dir, &v);
    };
    // Some real data to convert, so clusters are allocated and compression has work to do.
    let seed: Vec<u8> = (0..(2usize << 20)).map(|i| if i % 4096 < 2048 { (i % 251) as u8 } else { 0 }).collect();
    std::fs::write(dir.join("seed.raw"), &seed).unwrap();
    q(&["create", "-q", "-f", "qcow2", "-o", "compat=0.10", "qcow2-v2.qcow2", "64M"]);
    q(&["create", "-q", "-f", "qcow2", "-o", "compat=1.1", "qcow2-v3.qcow2", "64M"]);
    q(&["convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "seed.raw", "qcow2-zlib.qcow2"]);
    q(&[
        "convert",
        "-q",
        "-c",
        "-f",
        "raw",
        "-O",
        "qcow2",
        "-o",
        "compression_type=zstd",
        "seed.raw",
        "qcow2-zstd.qcow2",
    ]);
    q(&["create", "-q", "-f", "qcow2", "-b", "qcow2-v3.qcow2", "-F", "qcow2", "qcow2-backing.qcow2"]);
    q(&["create", "-q", "-f", "qcow2", "-o", "data_file=datafile.bin", "qcow2-datafile.qcow2", "64M"]);
    q(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "--object",
        "secret,id=sec0,data=stackdrop",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=sec0",
        "qcow2-luks.qcow2",
        "64M",
    ]);
    q(&["create", "-q", "-f", "vmdk", "vmdk-sparse.vmdk", "64M"]);
    q(&["convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", "seed.raw", "vmdk-stream.vmdk"]);
    q(&["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", "vmdk-flat.vmdk", "64M"]);
    q(&["create", "-q", "-f", "vpc", "-o", "subformat=fixed", "vpc-fixed.vhd", "64M"]);
    q(&["create", "-q", "-f", "vpc", "vpc-dynamic.vhd", "64M"]);
    q(&["create", "-q", "-f", "vhdx", "disk.vhdx", "64M"]);
    q(&["create", "-q", "-f", "vdi", "disk.vdi", "64M"]);
    q(&["convert", "-q", "-f", "raw", "-O", "raw", "seed.raw", "disk.raw"]);
    std::fs::create_dir_all(dir.join("isoroot")).unwrap();
    std::fs::write(dir.join("isoroot/hello.txt"), "stackdrop\n").unwrap();
    run(dir, &["xorriso", "-as", "mkisofs", "-quiet", "-V", "STACKDROP", "-o", "disk.iso", "isoroot"]);
    let f = |name: &'static str, format: &'static str, acceptable: bool| Fixture {
        name,
        path: dir.join(name),
        format,
        acceptable,
    };
    vec![
        f("qcow2-v2.qcow2", "qcow2", true),
        f("qcow2-v3.qcow2", "qcow2", true),
        f("qcow2-zlib.qcow2", "qcow2", true),
        f("qcow2-zstd.qcow2", "qcow2", true),
        f("qcow2-backing.qcow2", "qcow2", false),
        f("qcow2-datafile.qcow2", "qcow2", false),
        f("qcow2-luks.qcow2", "qcow2", true),
        f("vmdk-sparse.vmdk", "vmdk", true),
        f("vmdk-stream.vmdk", "vmdk", true),
        f("vmdk-flat.vmdk", "vmdk", false),
        // Glance and qemu read a fixed VHD (footer at the end) as raw; so does Stackdrop.
        f("vpc-fixed.vhd", "raw", true),
        f("vpc-dynamic.vhd", "vhd", true),
        f("disk.vhdx", "vhdx", true),
        f("disk.vdi", "vdi", true),
        f("disk.raw", "raw", true),
        f("disk.iso", "iso", true),
    ]
}

fn qemu_info(path: &Path) -> Value {
    let out = Command::new("qemu-img").args(["info", "--output=json"]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_format_matches_qemu_img_info() {
    let dir = tempfile::tempdir().unwrap();
    for fx in fixtures(dir.path()) {
        let got: Inspection = inspect_path(&fx.path).unwrap();
        assert_eq!(got.format, fx.format, "{}: {got:?}", fx.name);
        assert_eq!(got.acceptable(), fx.acceptable, "{}: {got:?}", fx.name);
        let info = qemu_info(&fx.path);
        let qemu_format = match info["format"].as_str().unwrap() {
            "vpc" => "vhd",
            // qemu has no ISO driver: it reads an ISO as raw, whose size is the file's.
            "raw" if fx.format == "iso" => "iso",
            f => f,
        };
        assert_eq!(qemu_format, fx.format, "{}", fx.name);
        assert_eq!(got.virtual_size, info["virtual-size"].as_u64(), "{}: {got:?}", fx.name);
    }
}

#[test]
fn refusals_name_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let all = fixtures(dir.path());
    let reasons =
        |name: &str| inspect_path(&all.iter().find(|f| f.name == name).unwrap().path).unwrap().refusals.join("; ");
    assert!(
        reasons("qcow2-backing.qcow2").contains("it has a backing file (qcow2-v3.qcow2)"),
        "{}",
        reasons("qcow2-backing.qcow2")
    );
    assert!(reasons("qcow2-datafile.qcow2").contains("external data file"));
    assert!(reasons("vmdk-flat.vmdk").contains("vmdk type monolithicFlat"));
    let luks = inspect_path(&all.iter().find(|f| f.name == "qcow2-luks.qcow2").unwrap().path).unwrap();
    assert!(luks.details.contains(&("encryption".into(), "luks".into())), "{luks:?}");
    let zstd = inspect_path(&all.iter().find(|f| f.name == "qcow2-zstd.qcow2").unwrap().path).unwrap();
    assert!(zstd.details.contains(&("compression type".into(), "zstd".into())), "{zstd:?}");
}

#[test]
fn a_4_gib_sparse_file_is_inspected_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.qcow2");
    run(dir.path(), &["qemu-img", "create", "-q", "-f", "qcow2", "big.qcow2", "4G"]);
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(4 << 30).unwrap();
    let got = inspect_path(&p).unwrap();
    assert_eq!((got.format.as_str(), got.virtual_size, got.file_size), ("qcow2", Some(4 << 30), 4 << 30));
}

/// Glance's verdict on every fixture must be ours: accepted (204) or refused (415).
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn glance_agrees_with_every_verdict() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let s = session(&lab, "lab");
    let prefix = unique("inspect");
    let mut disagreements = Vec::new();
    for fx in fixtures(dir.path()) {
        let ours = inspect_path(&fx.path).unwrap();
        let spec = ImageSpec {
            name: format!("{prefix}-{}", fx.name),
            disk_format: ours.format.clone(),
            container_format: "bare".into(),
            ..Default::default()
        };
        let img = s.images().create(&spec.create_body()).await.unwrap();
        let data = std::fs::read(&fx.path).unwrap();
        let put = s.images().upload(&img, reqwest::Body::from(data.clone()), data.len() as u64).await;
        let glance_accepts = match &put {
            Ok(()) => true,
            Err(e) if e.status() == Some(415) => false,
            Err(e) => panic!("{}: unexpected {e}", fx.name),
        };
        if glance_accepts != ours.acceptable() {
            disagreements.push(format!(
                "{}: Glance {:?}, stackdrop {:?}",
                fx.name,
                put.err().map(|e| e.to_string()),
                ours.refusals
            ));
        }
        s.images().delete(img.id()).await.unwrap();
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(images_named(&lab, &prefix).await.is_empty());
}

#[path = "fuzz/fuzz_targets/shape.rs"]
mod shape;

/// Every input the fuzzer kept (tests/fuzz/corpus, crashes included once fixed) still passes.
#[test]
fn the_fuzz_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/inspect");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        shape::check(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    assert!(n > 100, "only {n} corpus files in {}", dir.display());
}
