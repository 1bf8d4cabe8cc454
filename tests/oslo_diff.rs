//! Stackdrop's inspection against Glance's own (oslo.utils' `format_inspector`, from the lab's
//! venv), file for file, over a generated corpus: every format qemu-img writes, MBR/GPT disks,
//! and deterministic corruptions of each (bit flips, extreme field values, truncations). It
//! fails on any file Stackdrop accepts that Glance's inspector refuses (or reads as another
//! format), and prints how often Stackdrop is the stricter one.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::lab::{lab, mbr_disk, qemu_img, Layout};

const ORACLE: &str = r#"
import json, sys
from oslo_utils.imageutils import format_inspector as fi
out = {}
for p in sys.argv[1:]:
    try:
        insp = fi.detect_file_format(p)
    except Exception as e:
        out[p] = {"format": None, "ok": False, "why": str(e)[:200]}
        continue
    try:
        insp.safety_check()
        out[p] = {"format": insp.NAME, "ok": True, "why": ""}
    except Exception as e:
        out[p] = {"format": insp.NAME, "ok": False, "why": str(e)[:200]}
print(json.dumps(out))
"#;

/// A LUKS-encrypted disk (Glance 33 takes it declared raw: checked against the lab).
fn luks(dir: &Path) -> PathBuf {
    let p = dir.join("disk.luks");
    let ok = Command::new("qemu-img")
        .args(["create", "-q", "-f", "luks", "--object", "secret,id=s0,data=abc", "-o", "key-secret=s0"])
        .arg(&p)
        .arg("1M")
        .status()
        .unwrap();
    assert!(ok.success());
    p
}

/// An ISO 9660 image (xorriso, installed by tests/setup).
fn iso(dir: &Path) -> PathBuf {
    let content = dir.join("readme.txt");
    std::fs::write(&content, "stackdrop\n").unwrap();
    let p = dir.join("disk.iso");
    let ok = Command::new("xorriso").args(["-as", "mkisofs", "-quiet", "-o"]).arg(&p).arg(&content).status().unwrap();
    assert!(ok.success());
    p
}

/// Deterministic corruptions of `base`: bit flips and extreme values near the start (where
/// the headers are), and truncations.
fn corruptions(base: &Path, rng: &mut fastrand::Rng) -> Vec<PathBuf> {
    let data = std::fs::read(base).unwrap();
    let stem = base.file_name().unwrap().to_string_lossy().into_owned();
    let mut out = Vec::new();
    let mut save = |tag: String, bytes: &[u8]| {
        let p = base.with_file_name(format!("{stem}.{tag}"));
        std::fs::write(&p, bytes).unwrap();
        out.push(p);
    };
    let head = data.len().min(4096);
    for k in 0..6 {
        let mut d = data.clone();
        let at = if k < 3 { rng.usize(..head.min(512)) } else { rng.usize(..head) };
        d[at] ^= 1 << rng.u8(..8);
        save(format!("flip{k}"), &d);
    }
    for k in 0..4 {
        let mut d = data.clone();
        let at = rng.usize(..head.saturating_sub(8).max(1)) & !7;
        let v = if k % 2 == 0 { [0xFF; 8] } else { [0; 8] };
        let end = (at + 8).min(d.len());
        d[at..end].copy_from_slice(&v[..end - at]);
        save(format!("extreme{k}"), &d);
    }
    for cut in [64, 511, 4096, data.len() / 2] {
        if cut < data.len() {
            save(format!("cut{cut}"), &data[..cut]);
        }
    }
    out
}

#[test]
#[ignore = "needs the lab's venv (oslo.utils) and qemu-img: tests/run"]
fn inspection_agrees_with_glances_inspector() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut bases = vec![
        qemu_img(d, "raw.img", "raw", &[], "1M"),
        qemu_img(d, "v2.qcow2", "qcow2", &["compat=0.10"], "1M"),
        qemu_img(d, "v3.qcow2", "qcow2", &["compat=1.1"], "1M"),
        qemu_img(d, "sparse.vmdk", "vmdk", &["subformat=monolithicSparse"], "1M"),
        qemu_img(d, "stream.vmdk", "vmdk", &["subformat=streamOptimized"], "1M"),
        qemu_img(d, "dynamic.vhd", "vpc", &["subformat=dynamic"], "1M"),
        qemu_img(d, "disk.vhdx", "vhdx", &[], "1M"),
        qemu_img(d, "disk.vdi", "vdi", &[], "1M"),
        qemu_img(d, "disk.qed", "qed", &[], "1M"),
        luks(d),
        iso(d),
        mbr_disk(d, "mbr.img", &[(0x80, [0, 1, 1], 0x83, 2048)]),
        mbr_disk(d, "gpt.img", &[(0, [0, 2, 0], 0xEE, 1)]),
        mbr_disk(d, "badboot.img", &[(0x12, [0, 1, 1], 0x83, 2048)]),
        mbr_disk(d, "gptextra.img", &[(0, [0, 2, 0], 0xEE, 1), (0, [0, 1, 1], 0x83, 2048)]),
    ];
    let mut rng = fastrand::Rng::with_seed(33);
    let mut corrupt = Vec::new();
    for b in &bases {
        corrupt.extend(corruptions(b, &mut rng));
    }
    bases.extend(corrupt);

    let python = lab.venv.join("bin/python");
    let o = Command::new(&python).arg("-c").arg(ORACLE).args(&bases).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let oracle: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();

    let (mut agree, mut stricter, mut wrong) = (0, Vec::new(), Vec::new());
    for p in &bases {
        let ours = stackdrop::inspect::inspect_path(p).unwrap();
        let theirs = &oracle[&p.display().to_string()];
        // Glance takes a disk with a partition table (oslo's "gpt") or a LUKS container
        // declared raw.
        let their_format = theirs["format"].as_str().map(|f| if f == "gpt" || f == "luks" { "raw" } else { f });
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match (ours.acceptable(), theirs["ok"].as_bool().unwrap()) {
            (true, false) => {
                wrong.push(format!("{name}: Stackdrop accepts {}, Glance refuses: {}", ours.format, theirs["why"]))
            }
            (true, true) if their_format != Some(ours.format.as_str()) => {
                wrong.push(format!("{name}: Stackdrop reads {}, Glance {:?}", ours.format, their_format))
            }
            (false, true) => stricter.push(format!("{name} ({}): {}", ours.format, ours.refusals.join("; "))),
            _ => agree += 1,
        }
    }
    println!(
        "inspection vs Glance's inspector: {} files, {agree} agree, {} where Stackdrop is stricter:",
        bases.len(),
        stricter.len()
    );
    for s in &stricter {
        println!("  stricter: {s}");
    }
    assert!(wrong.is_empty(), "Stackdrop accepts what Glance refuses:\n{}", wrong.join("\n"));
}
