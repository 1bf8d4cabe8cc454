//! A small HTTP/1.1 server on 127.0.0.1 that answers from recorded exchanges (the seed and
//! the lab captures in tests/fixtures) and records every request it receives.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply {
            status,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The response recorded in a capture file: the last status line, its headers, its body.
    pub fn capture(name: &str) -> Reply {
        let path = fixtures().join("captures").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.iter().rposition(|l| l.starts_with("HTTP/1.1 ")).expect("a status line");
        let mut parts = lines[start].splitn(3, ' ');
        parts.next();
        let status: u16 = parts.next().unwrap().parse().unwrap();
        let reason = parts.next().unwrap_or("").to_owned();
        let mut headers = Vec::new();
        let mut i = start + 1;
        while i < lines.len() && !lines[i].is_empty() {
            let (k, v) = lines[i].split_once(": ").unwrap();
            if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection") {
                headers.push((k.to_owned(), v.to_owned()));
            }
            i += 1;
        }
        let body = lines[(i + 1).min(lines.len())..].join("\n");
        Reply { status, reason, headers, body: body.trim_end_matches('\n').as_bytes().to_vec() }
    }

    /// The body as JSON, to edit it.
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("reply body is JSON")
    }

    pub fn with_body_json(mut self, v: &serde_json::Value) -> Reply {
        self.body = v.to_string().into_bytes();
        self
    }

    /// Replace text in the body and headers (recorded host names -> this server's).
    pub fn replace(mut self, from: &str, to: &str) -> Reply {
        self.body = String::from_utf8(self.body).unwrap().replace(from, to).into_bytes();
        for (_, v) in &mut self.headers {
            *v = v.replace(from, to);
        }
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        self.headers.push((k.into(), v.into()));
        self
    }
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn seed(name: &str) -> serde_json::Value {
    let p = fixtures().join("seed").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

type Handler = Box<dyn Fn(&Request) -> Option<Reply> + Send + Sync>;

pub struct Server {
    pub addr: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serve `handler` (first `Some` wins; `None` is a 404) until the test ends.
    pub fn start(handler: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(Box::new(handler));
        let recorded = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let handler = handler.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(conn, &handler, &recorded));
            }
        });
        Server { addr, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// "METHOD path" of every request so far.
    pub fn log(&self) -> Vec<String> {
        self.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
    }
}

fn serve(conn: TcpStream, handler: &Handler, recorded: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request { method, path, headers, body };
        recorded.lock().unwrap().push(req.clone());
        let reply = if chunked {
            Reply { status: 411, reason: "Length Required".into(), headers: vec![], body: b"chunked upload".to_vec() }
        } else {
            handler(&req).unwrap_or(Reply { status: 404, reason: "Not Found".into(), headers: vec![], body: vec![] })
        };
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
        for (k, v) in &reply.headers {
            head += &format!("{k}: {v}\r\n");
        }
        head += &format!("Content-Length: {}\r\n\r\n", reply.body.len());
        if out.write_all(head.as_bytes()).and_then(|_| out.write_all(&reply.body)).is_err() {
            return;
        }
    }
}
