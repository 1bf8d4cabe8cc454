//! How long inspection takes on real images, including a 4 GiB sparse one
//! (`cargo run --release --example inspect-speed --no-default-features`; needs qemu-img).

use std::process::Command;
use std::time::Instant;

fn main() {
    let dir = std::env::temp_dir().join(format!("stackdrop-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let make =
        |args: &[&str]| assert!(Command::new("qemu-img").args(args).current_dir(&dir).status().unwrap().success());
    make(&["create", "-q", "-f", "qcow2", "big.qcow2", "4G"]);
    make(&["create", "-q", "-f", "vmdk", "big.vmdk", "4G"]);
    make(&["create", "-q", "-f", "vhdx", "big.vhdx", "4G"]);
    make(&["create", "-q", "-f", "vdi", "big.vdi", "4G"]);
    make(&["create", "-q", "-f", "vpc", "big.vhd", "4G"]);
    make(&["create", "-q", "-f", "raw", "big.raw", "4G"]);
    println!("| file (4 GiB virtual) | format | mean per inspection |\n|---|---|---|");
    for name in ["big.qcow2", "big.vmdk", "big.vhdx", "big.vdi", "big.vhd", "big.raw"] {
        let p = dir.join(name);
        let rounds = 200;
        let t = Instant::now();
        let mut format = String::new();
        for _ in 0..rounds {
            format = stackdrop::inspect::inspect_path(&p).unwrap().format;
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("| {name} | {format} | {us:.0} µs |");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
