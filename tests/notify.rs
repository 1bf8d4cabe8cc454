//! Desktop notifications reach the session bus's notification service (a stand-in daemon,
//! tests/notify_server.py, on the private bus tests/with-keyring makes).

use std::io::BufRead;
use std::process::{Command, Stdio};

#[test]
#[ignore = "needs a session bus: tests/run (tests/with-keyring)"]
fn a_notification_reaches_the_desktop() {
    assert!(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(), "no session bus (tests/run provides one)");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.jsonl");
    let mut server = Command::new("/usr/bin/python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notify_server.py"))
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3-gi");
    let mut ready = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "ready");
    let id = stackdrop::notify::send("Upload finished", "cirros is active in lab");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(id, Ok(1));
    let calls = std::fs::read_to_string(&log).unwrap();
    let call: serde_json::Value = serde_json::from_str(calls.lines().next().unwrap()).unwrap();
    assert_eq!(call["app"], "Stackdrop");
    assert_eq!(call["summary"], "Upload finished");
    assert_eq!(call["body"], "cirros is active in lab");
}
