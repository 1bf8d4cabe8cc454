//! Hostile local files given to the CLI: devices and FIFOs are refused at once (never read
//! forever, never hung on), with a message that names the file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run the CLI with `args`; it must end within 10 s (a hang fails the test, not CI).
fn run(args: &[&str], config: &std::path::Path) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackdrop"))
        .args(args)
        .env("STACKDROP_CONFIG_DIR", config)
        .env("STACKDROP_LANG", "en")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.success(), err);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("stackdrop {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn devices_and_fifos_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("clouds.yaml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.to_str().unwrap();
    for args in [
        vec!["profile", "import", "/dev/zero"],
        vec!["profile", "import", fifo],
        vec!["image", "inspect", "/dev/zero"],
        vec!["image", "inspect", fifo],
    ] {
        let (ok, err) = run(&args, dir.path());
        assert!(!ok, "{args:?}");
        assert!(err.contains("not a regular file") && err.contains(args[2]), "{args:?}: {err}");
    }
}
