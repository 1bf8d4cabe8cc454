//! Access to the running Keystone + Glance lab (tests/lab/start) for the integration tests.
//!
//! The lab is found through its `env` file: `$STACKDROP_LAB_ENV` (plain layout, default
//! /tmp/stackdrop-lab/env) and `$STACKDROP_LAB_PREFIX_ENV` (devstack layout, default
//! /tmp/stackdrop-lab-prefix/env). Tests that need it are `#[ignore]`d, so a plain
//! `cargo test` lists them as ignored, never as passed; tests/run runs them with
//! `--include-ignored`, and there a missing lab is a failure.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stackdrop::openstack::image::Image;
use stackdrop::openstack::Session;

#[derive(Debug, Clone)]
pub struct Lab {
    pub clouds: PathBuf,
    pub keystone: String,
    pub glance: String,
    /// The lab's Python venv (keystone, glance, openstackclient).
    pub venv: PathBuf,
}

pub enum Layout {
    Plain,
    Devstack,
}

pub fn lab(layout: Layout) -> Lab {
    let (var, default) = match layout {
        Layout::Plain => ("STACKDROP_LAB_ENV", "/tmp/stackdrop-lab/env"),
        Layout::Devstack => ("STACKDROP_LAB_PREFIX_ENV", "/tmp/stackdrop-lab-prefix/env"),
    };
    let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => panic!("this test needs the lab, but {path} is missing: start it with tests/labs start"),
    };
    let kv: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    Lab {
        clouds: PathBuf::from(kv["LAB_CLOUDS"]),
        keystone: kv["LAB_KEYSTONE_URL"].to_owned(),
        glance: kv["LAB_GLANCE_URL"].to_owned(),
        venv: PathBuf::from(kv["LAB_VENV"]),
    }
}

/// Run the real `stackdrop` binary against the lab, with no OS_* from the test's environment.
pub fn stackdrop(lab: &Lab, args: &[&str]) -> Output {
    command(lab, args).output().expect("run stackdrop")
}

pub fn command(lab: &Lab, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stackdrop"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            c.env_remove(k);
        }
    }
    c.env("OS_CLIENT_CONFIG_FILE", &lab.clouds).env("OS_CLIENT_SECURE_FILE", "/nonexistent").env_remove("DISPLAY");
    // No Stackdrop profiles unless a test brings its own (STACKDROP_CONFIG_DIR).
    c.env("STACKDROP_CONFIG_DIR", "/nonexistent/stackdrop-profiles");
    c.args(args);
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A session on one of the lab's clouds, through the same config code as the CLI.
pub fn session(lab: &Lab, cloud: &str) -> Session {
    let clouds = lab.clouds.display().to_string();
    let env = move |k: &str| match k {
        "OS_CLIENT_CONFIG_FILE" => Some(clouds.clone()),
        "OS_CLIENT_SECURE_FILE" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    Session::new(stackdrop::config::resolve(Some(cloud), &serde_json::json!({}), &env).unwrap()).unwrap()
}

/// Images whose name starts with `prefix`, as the lab's admin sees them.
pub async fn images_named(lab: &Lab, prefix: &str) -> Vec<Image> {
    let all = session(lab, "lab").images().list(&[]).await.unwrap();
    all.into_iter().filter(|i| i.name().unwrap_or_default().starts_with(prefix)).collect()
}

/// A unique name for this test's images.
pub fn unique(tag: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("t-{tag}-{}-{}", std::process::id(), n % 1_000_000_000)
}

/// A qcow2 image with `mib` MiB of real (random) data, made by qemu-img.
/// `qemu-img create -f FORMAT [-o OPT]… DIR/NAME SIZE`.
pub fn qemu_img(dir: &Path, name: &str, format: &str, opts: &[&str], size: &str) -> PathBuf {
    let p = dir.join(name);
    let mut c = Command::new("qemu-img");
    c.args(["create", "-q", "-f", format]);
    for o in opts {
        c.args(["-o", o]);
    }
    let ok = c.arg(&p).arg(size).status().expect("qemu-img (apt-get install qemu-utils)").success();
    assert!(ok, "qemu-img {format} {opts:?}");
    p
}

/// A 1 MiB raw disk whose first sector is an MBR (signature 0x55AA) with these partition
/// entries: (boot flag, start CHS, type, start LBA), each 1024 sectors long.
pub fn mbr_disk(dir: &Path, name: &str, entries: &[(u8, [u8; 3], u8, u32)]) -> PathBuf {
    let mut b = vec![0u8; 1 << 20];
    for (n, (boot, chs, ty, lba)) in entries.iter().enumerate() {
        let e = 446 + 16 * n;
        b[e] = *boot;
        b[e + 1..e + 4].copy_from_slice(chs);
        b[e + 4] = *ty;
        b[e + 8..e + 12].copy_from_slice(&lba.to_le_bytes());
        b[e + 12..e + 16].copy_from_slice(&1024u32.to_le_bytes());
    }
    b[510] = 0x55;
    b[511] = 0xAA;
    let p = dir.join(name);
    std::fs::write(&p, b).unwrap();
    p
}

pub fn qcow2(dir: &Path, name: &str, mib: usize) -> PathBuf {
    let raw = random_file(dir, &format!("{name}.raw"), mib << 20);
    let out = dir.join(format!("{name}.qcow2"));
    let st = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
        .arg(&raw)
        .arg(&out)
        .status()
        .expect("qemu-img (apt-get install qemu-utils)");
    assert!(st.success());
    out
}

/// A file of `len` pseudo-random bytes (the same bytes for the same length), written a MiB
/// at a time: the soak measures the client's memory in this process, so the test's own
/// helpers never hold a whole file.
pub fn random_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    use std::io::Write;
    let mut x: u64 = 0x9E3779B97F4A7C15 ^ len as u64;
    let p = dir.join(name);
    let mut out = std::fs::File::create(&p).unwrap();
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut left = len;
    while left > 0 {
        let n = left.min(1 << 20);
        chunk.clear();
        chunk.extend((0..n).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        }));
        out.write_all(&chunk).unwrap();
        left -= n;
    }
    p
}

/// A sparse file of `len` zero bytes: instant to make, real bytes to upload.
pub fn sparse_file(dir: &Path, name: &str, len: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(len).unwrap();
    p
}

/// openstackclient from the lab's venv, as the lab's admin (to set up users for a test).
pub fn openstack(lab: &Lab, args: &[&str]) -> String {
    let o = Command::new(lab.venv.join("bin/openstack"))
        .env("OS_CLIENT_CONFIG_FILE", &lab.clouds)
        .env("OS_CLOUD", "lab")
        .args(args)
        .output()
        .expect("the lab's openstack CLI");
    assert!(o.status.success(), "openstack {args:?}: {}", stderr(&o));
    stdout(&o)
}
