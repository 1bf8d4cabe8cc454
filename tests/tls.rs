//! TLS against a real TLS server (`openssl s_server` with a self-signed certificate): an
//! unknown CA is a clear TLS error, and the same server is trusted once its CA is given.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use stackdrop::config::clouds::cloud_from_entry;
use stackdrop::openstack::http::{Http, Timeouts, TlsOptions};
use stackdrop::openstack::identity::discover_v3;
use stackdrop::openstack::{Error, Session};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn session(url: &str, cacert: Option<&str>) -> Session {
    let mut entry = json!({"auth": {"auth_url": url, "user_id": "u", "password": "p", "project_id": "p"}});
    if let Some(c) = cacert {
        entry["cacert"] = json!(c);
    }
    Session::new(cloud_from_entry("tls", &entry).unwrap()).unwrap()
}

#[tokio::test]
async fn unknown_ca_is_a_tls_error_and_cacert_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_owned();
    std::fs::write(p("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    // A private CA and a server certificate it signed for 127.0.0.1.
    for args in [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=stackdrop-test-ca",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ],
        vec![
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &p("key.pem"),
            "-out",
            &p("leaf.csr"),
        ],
        vec![
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &p("leaf.ext"),
            "-out",
            &p("cert.pem"),
        ],
    ] {
        let ok =
            Command::new("openssl").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("openssl");
        assert!(ok.success(), "openssl {args:?}");
    }
    let (cert, key, ca) = (p("cert.pem"), p("key.pem"), p("ca.pem"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Kill(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string()])
            .args(["-cert", &cert, "-key", &key])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("https://127.0.0.1:{port}/v3");

    let err = session(&url, None).token().await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("TLS failure talking to {url}/auth/tokens")), "{msg}");
    assert!(msg.contains("--os-cacert"), "{msg}");

    // Trusted now: the handshake succeeds. (s_server -www answers GETs only, with an HTML
    // page, so discovery falls back to /v3/ — which it does only after a good handshake.)
    let root = reqwest::Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
    let tls = |cacert: Option<&str>| TlsOptions { cacert: cacert.map(Into::into), ..Default::default() };
    let trusted = Http::new(&tls(Some(&ca)), Timeouts::default()).unwrap();
    let v3 = discover_v3(&trusted, &root).await.unwrap();
    assert_eq!(v3.as_str(), format!("https://127.0.0.1:{port}/v3/"));
    let untrusted = Http::new(&tls(None), Timeouts::default()).unwrap();
    assert!(matches!(discover_v3(&untrusted, &root).await, Err(Error::Tls { .. })));

    // A CA file that is not PEM is refused up front.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let entry = json!({"auth": {"auth_url": url, "user_id": "u", "password": "p"}, "cacert": bogus});
    let err = Session::new(cloud_from_entry("tls", &entry).unwrap()).err().unwrap().to_string();
    assert!(err.contains("holds no PEM certificate"), "{err}");
}
