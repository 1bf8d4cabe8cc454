//! `--version`, `--help` on every command, completions and man pages, through the real binary.

use std::process::Command;

fn sd(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_stackdrop")).args(args).env("LANG", "C.UTF-8").output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn version_and_help_for_every_command() {
    let (ok, out) = sd(&["--version"]);
    assert!(ok);
    assert_eq!(out.trim(), format!("stackdrop {}", env!("CARGO_PKG_VERSION")));
    let paths = stackdrop::cli::docs::command_paths();
    assert!(paths.len() >= 18, "{paths:?}");
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, out) = sd(&args);
        assert!(ok, "{args:?}: {out}");
        assert!(out.contains(&format!("Usage: stackdrop {}", path.join(" "))), "{args:?}: {out}");
    }
}

#[test]
fn completions_and_man_pages_from_the_binary() {
    for shell in ["bash", "zsh", "fish"] {
        let (ok, out) = sd(&["completions", shell]);
        assert!(ok && out.contains("stackdrop") && out.contains("set-secret"), "{shell}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = sd(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(ok, "{out}");
    let page = std::fs::read_to_string(dir.path().join("stackdrop-profile-import.1")).unwrap();
    assert!(page.contains(".TH stackdrop-profile-import 1") && page.contains("openrc"), "{page}");
    // The page renders (man-db is installed by tests/setup).
    if let Ok(o) = Command::new("man").arg("-l").arg(dir.path().join("stackdrop-image-create.1")).env("MANPAGER", "cat").env("MANWIDTH", "100").output() {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("--disk-format"), "{text}");
    }
}
