//! TLS against a real TLS server (`openssl s_server` with a self-signed certificate): an
//! unknown CA is a clear TLS error, and the same server is trusted once its CA is given.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use stackdrop::config::clouds::cloud_from_entry;
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
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout").arg(&key).arg("-out").arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(ok.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Kill(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string()])
            .arg("-cert").arg(&cert).arg("-key").arg(&key)
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

    // Trusted now: the handshake succeeds and the (non-Keystone) server's reply is what fails.
    let err = session(&url, Some(cert.to_str().unwrap())).token().await.unwrap_err();
    assert!(!matches!(err, Error::Tls { .. }), "{err:?}");

    // A CA file that is not PEM is refused up front.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let entry = json!({"auth": {"auth_url": url, "user_id": "u", "password": "p"}, "cacert": bogus});
    let err = Session::new(cloud_from_entry("tls", &entry).unwrap()).err().unwrap().to_string();
    assert!(err.contains("holds no PEM certificate"), "{err}");
}
