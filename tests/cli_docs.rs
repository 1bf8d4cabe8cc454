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
    // Walk the tree as a person would: every command listed under "Commands:" in a --help.
    let mut todo = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, out) = sd(&args);
        assert!(ok, "{args:?}: {out}");
        assert!(out.contains(format!("Usage: stackdrop {}", path.join(" ")).trim_end()), "{args:?}: {out}");
        seen += 1;
        todo.extend(subcommands(&out).into_iter().map(|c| [path.clone(), vec![c]].concat()));
    }
    assert!(seen >= 19, "only {seen} commands have a --help");
}

/// The commands a `--help` lists (clap's "Commands:" section), without `help` itself.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // a wrapped description
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
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
    if let Ok(o) = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("stackdrop-image-create.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
    {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("--disk-format"), "{text}");
    }
}
