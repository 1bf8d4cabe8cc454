//! The catalogue against the Rust sources: every key the code asks for (`t("…")`, `tf("…", …)`,
//! the test-connection steps) exists in English and Korean. (tests/ui/i18n.test.mjs does the
//! same for the page; the catalogue's own unit tests check placeholders.)

use std::collections::BTreeSet;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every string literal that names a catalogue key: the Rust side's keys all start with one
/// of these (the page's start with `ui.`), whether passed to `t`/`tf` directly or chosen in a
/// `match` first.
fn keys_in(src: &str) -> Vec<String> {
    const PREFIXES: [&str; 6] = ["err.", "secret.", "step.", "cli.", "notify.", "warn."];
    src.split('"')
        .skip(1)
        .step_by(2)
        .filter(|lit| PREFIXES.iter().any(|p| lit.starts_with(p)))
        .filter(|lit| {
            lit.len() > 5 && lit.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        })
        .filter(|lit| !lit.ends_with('.'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_key_the_code_uses_is_in_the_catalogue() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri"), &mut files);
    let known: BTreeSet<&str> = stackdrop::i18n::keys().collect();
    let mut used = BTreeSet::new();
    for f in &files {
        for k in keys_in(&std::fs::read_to_string(f).unwrap()) {
            used.insert(k);
        }
    }
    for id in stackdrop::openstack::check::StepId::ALL {
        used.insert(id.title_key().to_owned());
    }
    assert!(used.len() > 65, "{} keys found: {used:?}", used.len());
    let missing: Vec<&String> = used.iter().filter(|k| !known.contains(k.as_str())).collect();
    assert!(missing.is_empty(), "not in catalog.json: {missing:?}");
    // And the other way: no Rust-side key is left over from code that is gone.
    let unused: Vec<&str> = known.iter().copied().filter(|k| !k.starts_with("ui.") && !used.contains(*k)).collect();
    assert!(unused.is_empty(), "in catalog.json but used nowhere: {unused:?}");
}

/// The profile editor's fields come from Rust (`EDITOR_FIELDS`); the page labels each with
/// `ui.pf.<key>`, so each needs that key in both languages.
#[test]
fn every_editor_field_has_a_label() {
    let known: BTreeSet<&str> = stackdrop::i18n::keys().collect();
    let missing: Vec<String> = stackdrop::config::profiles::EDITOR_FIELDS
        .iter()
        .map(|f| format!("ui.pf.{}", f.key))
        .filter(|k| !known.contains(k.as_str()))
        .collect();
    assert!(missing.is_empty(), "labels not in catalog.json: {missing:?}");
}

#[test]
fn errors_are_english_until_shown_in_the_persons_language() {
    use stackdrop::i18n::{Lang, Localized};
    let e = stackdrop::upload::Error::Stalled { secs: 60 };
    // `Display` never reads the global language: English even while Korean is chosen.
    // (One test thread flips the global language here; the other tests in this binary do
    // not read messages.)
    stackdrop::i18n::set(Lang::Ko);
    let (shown, plain) = (e.localized(), e.to_string());
    stackdrop::i18n::set(Lang::En);
    assert_eq!(plain, "the upload stalled: the server accepted no data for 60 s");
    // Korean where it is shown: the same error in Hangul, the figure kept.
    assert!(shown.contains("60초") && shown.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{shown}");
    assert_eq!(e.in_lang(Lang::En), plain);
}

#[test]
fn the_cli_speaks_the_locale() {
    let dir = tempfile::tempdir().unwrap();
    let run = |lang: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_stackdrop"))
            .args(["profile", "list"])
            .env("STACKDROP_CONFIG_DIR", dir.path())
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("STACKDROP_LANG")
            .env("LANG", lang)
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stderr).unwrap()
    };
    assert!(run("ko_KR.UTF-8").starts_with("아직 프로필이 없습니다"), "{}", run("ko_KR.UTF-8"));
    assert!(run("C.UTF-8").starts_with("no profiles yet"), "{}", run("C.UTF-8"));
}
