//! The client's own ceiling: a file streamed by Stackdrop's upload body (read once, hashed
//! md5 + sha256 + sha512 on the way) into a loopback HTTP server that discards the body and
//! answers 204, as Glance's `PUT /v2/images/{id}/file` does — no Glance, no disk write, no
//! network: what is left is the client. Printed next to the machine's limit, the speed of the
//! slowest single digest (the three cannot go faster than their slowest), for both ways of
//! hashing (one thread, as before 2026-11-29; a thread per digest, as now).
//!
//! `cargo run --release --example null-sink --no-default-features [-- MIB [RUNS]]`
//! (default 1024 MiB, 3 runs each; the file is made in the temp directory and read once
//! beforehand so it comes from the page cache).

use std::io::{Read, Write};
use std::time::Instant;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512};
use stackdrop::upload::stream::{file_body_hashed, Hashing};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn digest_speed<D: Digest>(data: &[u8]) -> f64 {
    let t = Instant::now();
    let mut h = D::new();
    for chunk in data.chunks(1 << 20) {
        h.update(chunk);
    }
    std::hint::black_box(h.finalize());
    data.len() as f64 / 1048576.0 / t.elapsed().as_secs_f64()
}

/// One connection of the sink: requests read and their bodies thrown away, each answered 204.
async fn serve(sock: tokio::net::TcpStream) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 20, sock);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        while len > 0 {
            let n = r.read(&mut buf[..len.min(1 << 20)]).await?;
            if n == 0 {
                return Ok(());
            }
            len -= n;
        }
        r.get_mut().write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await?;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);

    // The machine's limit: each digest alone, one thread, over 256 MiB in memory.
    let data: Vec<u8> = (0..256usize << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let speeds = [
        ("md5", digest_speed::<Md5>(&data)),
        ("sha256", digest_speed::<Sha256>(&data)),
        ("sha512", digest_speed::<Sha512>(&data)),
    ];
    let (slowest_name, slowest) = speeds.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    drop(data);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("null-sink.raw");
    {
        let mut f = std::fs::File::create(&path).unwrap();
        let mut chunk = vec![0u8; 1 << 20];
        for i in 0..mib {
            for (j, b) in chunk.iter_mut().enumerate() {
                *b = ((i * 1_048_576 + j).wrapping_mul(2654435761) >> 11) as u8;
            }
            f.write_all(&chunk).unwrap();
        }
    }
    // Into the page cache.
    let mut sink = vec![0u8; 1 << 20];
    let mut f = std::fs::File::open(&path).unwrap();
    while f.read(&mut sink).unwrap() > 0 {}
    let len = (mib as u64) << 20;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2/images/null/file", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock));
        }
    });
    let client = reqwest::Client::new();

    println!("null sink: {mib} MiB from the page cache, PUT over loopback HTTP, answered 204; {runs} runs each");
    println!(
        "digests alone, one thread each: md5 {:.0}, sha256 {:.0}, sha512 {:.0} MiB/s; the limit is the slowest, {slowest_name} {slowest:.0} MiB/s",
        speeds[0].1, speeds[1].1, speeds[2].1
    );
    for (label, hashing) in
        [("one thread (before)", Hashing::OneThread), ("a thread per digest (now)", Hashing::ThreadPerDigest)]
    {
        let mut got = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let body = file_body_hashed(std::fs::File::open(&path).unwrap(), len, hashing);
            let r = client
                .put(&url)
                .header(reqwest::header::CONTENT_LENGTH, len)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body.body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
            let d = body.digests.await.unwrap().unwrap();
            assert_eq!(d.bytes, len);
            got.push(mib as f64 / t.elapsed().as_secs_f64());
        }
        let m = median(got.clone());
        let each: Vec<String> = got.iter().map(|x| format!("{x:.0}")).collect();
        println!("{label:<27} {m:6.0} MiB/s median ({}), {:.2}× the slowest digest", each.join(" "), m / slowest);
    }

    // One read to several targets (`image create --to`): the same chunks to 1, 2 and 3 sinks
    // at once, hashed once. The wall time against one target's is what the fan-out costs the
    // client itself.
    let mut one = 0.0;
    for targets in 1..=3usize {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let (bodies, digests) =
                stackdrop::upload::stream::fan_out_bodies(std::fs::File::open(&path).unwrap(), len, targets);
            let puts = bodies.into_iter().map(|b| {
                client
                    .put(&url)
                    .header(reqwest::header::CONTENT_LENGTH, len)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(b.body)
                    .send()
            });
            for r in futures_util::future::join_all(puts).await {
                assert_eq!(r.unwrap().status(), 204);
            }
            assert_eq!(digests.await.unwrap().unwrap().bytes, len);
            times.push(t.elapsed().as_secs_f64());
        }
        let m = median(times);
        if targets == 1 {
            one = m;
        }
        println!(
            "fan-out to {targets} sink(s)          {m:6.2} s median, {:.0} MiB/s per target, {:.2}× one target's time",
            mib as f64 / m,
            m / one
        );
    }
}
