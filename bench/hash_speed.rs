//! Throughput of the three digests Stackdrop computes while uploading, alone and together
//! (`cargo run --release --example hash-speed --no-default-features`). Prints MiB/s.

use std::time::Instant;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

fn speed<D: Digest>(data: &[u8], rounds: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..rounds {
        let mut h = D::new();
        for chunk in data.chunks(1 << 20) {
            h.update(chunk);
        }
        std::hint::black_box(h.finalize());
    }
    (data.len() * rounds) as f64 / 1048576.0 / t.elapsed().as_secs_f64()
}

fn main() {
    let data: Vec<u8> = (0..256usize << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    println!("md5     {:7.0} MiB/s", speed::<Md5>(&data, 2));
    println!("sha256  {:7.0} MiB/s", speed::<Sha256>(&data, 2));
    println!("sha512  {:7.0} MiB/s", speed::<Sha512>(&data, 2));
    let t = Instant::now();
    let mut h = stackdrop::upload::stream::Hasher::default();
    for _ in 0..2 {
        for chunk in data.chunks(1 << 20) {
            h.update(chunk);
        }
    }
    std::hint::black_box(h.finish());
    println!(
        "all 3   {:7.0} MiB/s (one pass, as during an upload)",
        (data.len() * 2) as f64 / 1048576.0 / t.elapsed().as_secs_f64()
    );
}
