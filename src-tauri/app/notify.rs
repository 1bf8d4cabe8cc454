//! Desktop notifications, for an upload that ends while the window is in the background, through
//! notify-rust: the freedesktop notification service on Linux (over the `dbus` crate, already
//! here for the Secret Service), Notification Center on macOS, toasts on Windows.

use std::time::Duration;

/// Uploads shorter than this end while the person is still looking.
pub const LONG_UPLOAD: Duration = Duration::from_secs(10);

/// Tell the person about an upload that ended: only a long one, and only when they are not
/// looking at the window.
pub fn worth_telling(elapsed: Duration, window_focused: bool) -> bool {
    !window_focused && elapsed >= LONG_UPLOAD
}

/// Show a notification; an error says why it could not be shown. It blocks (a D-Bus round
/// trip): call it off the async runtime.
pub fn send(summary: &str, body: &str) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Stackdrop")
        .summary(summary)
        .body(body)
        .icon("stackdrop")
        .show()
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_long_uploads_in_the_background() {
        assert!(worth_telling(Duration::from_secs(30), false));
        assert!(!worth_telling(Duration::from_secs(30), true));
        assert!(!worth_telling(Duration::from_secs(3), false));
    }

    /// A stand-in notification daemon (tests/notify_server.py) on the private session bus that
    /// tests/with-keyring makes hears the call.
    #[test]
    #[ignore = "needs a session bus: tests/run (tests/with-keyring)"]
    fn a_notification_reaches_the_desktop() {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
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
        let sent = send("Upload finished", "cirros is active in lab");
        let _ = server.kill();
        let _ = server.wait();
        assert_eq!(sent, Ok(()));
        let calls = std::fs::read_to_string(&log).unwrap();
        let call: serde_json::Value = serde_json::from_str(calls.lines().next().unwrap()).unwrap();
        assert_eq!(call["app"], "Stackdrop");
        assert_eq!(call["summary"], "Upload finished");
        assert_eq!(call["body"], "cirros is active in lab");
    }
}
