//! A fault-injecting HTTP proxy on 127.0.0.1, placed between Stackdrop and the lab's Glance.
//! Each rule matches a request by method and path and fires a given number of times: reset the
//! connection after N body bytes, answer a status itself, stall after N body bytes, replace
//! the token so that Glance answers 401, or cut or corrupt the answer (a download). Everything else is forwarded (with `Connection: close`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Forward the head and `n` body bytes, then close both connections.
    ResetAfter(u64),
    /// Read the whole request, answer this status without forwarding.
    Status(u16),
    /// Forward `n` body bytes, then read nothing more (the server seems to hang).
    StallAfter(u64),
    /// Forward with an invalid X-Auth-Token (Glance answers 401).
    DropToken,
    /// Forward, and pass back only the first `n` bytes of the answer (head included), then
    /// close: a download cut off midway.
    CutAnswerAfter(u64),
    /// Forward, and flip the bits of the answer's byte at `n` (head included): data corrupted
    /// on the way.
    FlipAnswerByte(u64),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub method: &'static str,
    /// The request path must contain this (e.g. "/file", "/v2/images/").
    pub path_has: String,
    pub fault: Fault,
    /// How many matching requests get the fault (u32::MAX: all).
    pub times: u32,
}

pub fn rule(method: &'static str, path_has: &str, fault: Fault, times: u32) -> Rule {
    Rule { method, path_has: path_has.to_owned(), fault, times }
}

pub struct Proxy {
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
    /// How many times a StallAfter rule has stalled a request.
    pub stalls: Arc<AtomicU64>,
}

impl Proxy {
    /// Proxy to `upstream` (`http://host:port/prefix`), with `rules`.
    pub fn start(upstream: &str, rules: Vec<Rule>) -> Proxy {
        let u = reqwest::Url::parse(upstream).unwrap();
        let target = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
        let prefix = u.path().trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // A fixed receive buffer (inherited by accepted sockets; autotuning, which may grow
        // one to 32 MiB here, is off): a stall must stop the client within a few hundred KiB,
        // not after the kernel has quietly taken the rest of a 16 MiB body. (Without it the
        // "stalls forever" case sometimes ended in a reset instead of a stall.)
        socket2::SockRef::from(&listener).set_recv_buffer_size(256 * 1024).unwrap();
        let url = format!("http://{}{prefix}", listener.local_addr().unwrap());
        let rules = Arc::new(Mutex::new(rules));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stalls = Arc::new(AtomicU64::new(0));
        let (l2, s2) = (log.clone(), stalls.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (target, rules, log, stalls) = (target.clone(), rules.clone(), l2.clone(), s2.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &target, &rules, &log, &stalls);
                });
            }
        });
        Proxy { url, log, stalls }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn handle(
    client: TcpStream,
    target: &str,
    rules: &Mutex<Vec<Rule>>,
    log: &Mutex<Vec<String>>,
    stalls: &AtomicU64,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client_w = client;
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end().to_owned();
        if h.is_empty() {
            break;
        }
        headers.push(h);
    }
    let len: u64 = headers
        .iter()
        .find_map(|h| {
            h.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let fault = {
        let mut rules = rules.lock().unwrap();
        rules.iter_mut().find(|r| r.times > 0 && r.method == method && path.contains(&r.path_has)).map(|r| {
            r.times -= 1;
            r.fault
        })
    };
    log.lock().unwrap().push(format!("{method} {path}{}", fault.map(|f| format!(" [{f:?}]")).unwrap_or_default()));

    if let Some(Fault::Status(code)) = fault {
        std::io::copy(&mut (&mut reader).take(len), &mut std::io::sink())?;
        let body = format!(
            "{{\"message\": \"injected {code}<br /><br />\\n\", \"code\": \"{code}\", \"title\": \"Injected\"}}"
        );
        write!(client_w, "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
        return Ok(());
    }
    let mut upstream = TcpStream::connect(target)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for h in &headers {
        let name = h.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name == "connection" {
            continue;
        }
        if name == "x-auth-token" && matches!(fault, Some(Fault::DropToken)) {
            head += "X-Auth-Token: not-a-token\r\n";
            continue;
        }
        head += h;
        head += "\r\n";
    }
    head += "Connection: close\r\n\r\n";
    upstream.write_all(head.as_bytes())?;
    let limit = match fault {
        Some(Fault::ResetAfter(n)) | Some(Fault::StallAfter(n)) => n.min(len),
        _ => len,
    };
    std::io::copy(&mut (&mut reader).take(limit), &mut upstream)?;
    match fault {
        Some(Fault::ResetAfter(_)) => {
            let _ = upstream.shutdown(Shutdown::Both);
            let _ = client_w.shutdown(Shutdown::Both);
            return Ok(());
        }
        Some(Fault::StallAfter(_)) => {
            let _ = upstream.shutdown(Shutdown::Both);
            stalls.fetch_add(1, Ordering::SeqCst);
            // Read nothing more; wait for the client to give up.
            let mut probe = [0u8; 1];
            client_w.set_read_timeout(Some(Duration::from_secs(120)))?;
            let _ = client_w.peek(&mut probe);
            std::thread::sleep(Duration::from_secs(120));
            return Ok(());
        }
        _ => {}
    }
    match fault {
        Some(Fault::CutAnswerAfter(n)) => {
            std::io::copy(&mut (&mut upstream).take(n), &mut client_w)?;
        }
        Some(Fault::FlipAnswerByte(n)) => {
            std::io::copy(&mut (&mut upstream).take(n), &mut client_w)?;
            let mut b = [0u8; 1];
            if upstream.read(&mut b)? == 1 {
                client_w.write_all(&[!b[0]])?;
            }
            std::io::copy(&mut upstream, &mut client_w)?;
        }
        _ => {
            std::io::copy(&mut upstream, &mut client_w)?;
        }
    }
    let _ = client_w.shutdown(Shutdown::Both);
    Ok(())
}
