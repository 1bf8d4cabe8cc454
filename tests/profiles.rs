//! Profiles against a real Secret Service (gnome-keyring on a private D-Bus session, started by
//! tests/with-keyring) and the real lab: import what people have, keep secrets only in the
//! keyring, connect and upload with an imported profile, and never leak a secret.
//!
//! They are `#[ignore]`d for a plain `cargo test`; tests/run runs them with `--include-ignored`
//! under tests/with-keyring, where a missing keyring or lab is a failure.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;
use stackdrop::config::secrets::{Kind, OsKeyring, SecretStore};
use stackdrop::config::ProfileStore;
use support::lab::{command, images_named, lab, openstack, qcow2, stderr, stdout, unique, Lab, Layout};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles");

/// These tests are `#[ignore]`d unless run by tests/run, which provides the keyring: a
/// missing one is a failure, never a silent pass.
fn keyring_ready() {
    let store = ProfileStore::at("/tmp/stackdrop-keyring-probe");
    if let Err(e) = stackdrop::config::Secrets::for_store(&store).probe() {
        panic!("a Secret Service is required (run under tests/with-keyring): {e}")
    }
}

/// `stackdrop` with its own profile directory, optionally something on stdin.
fn sd(lab: &Lab, cfg: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = command(lab, args);
    c.env("STACKDROP_CONFIG_DIR", cfg).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status.code(), stdout(o), stderr(o));
    stdout(o)
}

fn failed(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure, got: {}", stdout(o));
    stderr(o)
}

/// The keyring as the CLI sees it for profile directory `cfg`.
fn keyring(cfg: &Path) -> OsKeyring {
    OsKeyring::new(ProfileStore::at(cfg).keyring_namespace())
}

fn kept(cfg: &Path, kind: Kind, name: &str) -> Option<String> {
    keyring(cfg).get(kind, name).unwrap().map(|s| s.expose().to_owned())
}

/// Every file under `dir`, concatenated (to look for secrets in).
fn all_files(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p: PathBuf = e.path();
        if p.is_dir() {
            out += &all_files(&p);
        } else {
            out += &String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default());
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs the lab and a Secret Service: tests/run (tests/with-keyring)"]
async fn import_the_labs_clouds_yaml_test_it_and_upload_with_it() {
    let lab = lab(Layout::Plain);
    keyring_ready();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let clouds = lab.clouds.to_str().unwrap();

    let out = sd(&lab, cfg, &["profile", "import", clouds], None);
    let err = stderr(&out);
    ok(&out);
    assert!(err.contains("imported 'lab' from clouds.yaml") && err.contains("imported 'lab-appcred'"), "{err}");
    // The secrets went to the keyring and only there.
    assert_eq!(kept(cfg, Kind::Credential, "lab").as_deref(), Some("secret"));
    assert_eq!(kept(cfg, Kind::Credential, "lab-appcred").as_deref(), Some("lab-appcred-secret"));
    let file = std::fs::read_to_string(cfg.join("profiles.yaml")).unwrap();
    assert!(file.contains("auth_url: http://127.0.0.1:5000/v3") && file.contains("username: admin"), "{file}");
    assert!(!file.contains("password:") && !file.contains("lab-appcred-secret"), "{file}");

    let list: Value = serde_json::from_str(&ok(&sd(&lab, cfg, &["profile", "list", "-f", "json"], None))).unwrap();
    let lab_row = list.as_array().unwrap().iter().find(|r| r["Name"] == "lab").unwrap();
    assert_eq!(lab_row["Secret"], "saved");
    assert_eq!(lab_row["Project"], "admin");

    // Test connection: every step of the seed's sequence, in order.
    let steps = ok(&sd(&lab, cfg, &["profile", "test", "lab"], None));
    let lines: Vec<&str> = steps.lines().collect();
    assert_eq!(lines.len(), 6, "{steps}");
    for (line, title) in lines.iter().zip([
        "Identity discovery",
        "Token",
        "Service catalog",
        "Glance versions",
        "Import methods",
        "Stores",
    ]) {
        assert!(line.starts_with(&format!("[ok  ] {title}: ")), "{line}");
    }
    assert!(lines[1].contains("user admin, project admin") && lines[1].contains("min)"), "{}", lines[1]);
    assert!(lines[2].contains("public RegionOne http://127.0.0.1:9292"), "{}", lines[2]);
    assert!(lines[4].contains("glance-direct") && lines[5].contains("fs2"), "{steps}");
    let bad = sd(&lab, cfg, &["profile", "test", "lab-badpass", "-f", "json"], None);
    failed(&bad);
    let steps: Value = serde_json::from_str(&stdout(&bad)).unwrap();
    assert_eq!(steps[0]["State"], "ok");
    assert_eq!(steps[1]["State"], "failed");
    assert!(steps[1]["Detail"].as_str().unwrap().contains("refused the credentials"));
    assert_eq!(steps[2]["State"], "skipped");

    // Upload with the imported profile. `--os-cloud lab` finds the profile before clouds.yaml:
    // prove it by pointing clouds.yaml somewhere empty.
    let dir = tempfile::tempdir().unwrap();
    let name = unique("profile");
    let disk = qcow2(dir.path(), &name, 2);
    let mut c =
        command(&lab, &["--os-cloud", "lab", "image", "create", "--file", disk.to_str().unwrap(), "-f", "json", &name]);
    c.env("STACKDROP_CONFIG_DIR", cfg).env("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml");
    let img: Value = serde_json::from_str(&ok(&c.output().unwrap())).unwrap();
    assert_eq!(img["status"], "active");
    assert_eq!(img["disk_format"], "qcow2");
    // The token was kept for the next run.
    assert!(kept(cfg, Kind::Token, "lab").is_some_and(|t| t.contains("\"fingerprint\"")));
    for i in images_named(&lab, &name).await {
        support::lab::session(&lab, "lab").images().delete(i.id()).await.unwrap();
    }

    // Rename moves the keyring entries; remove takes them away.
    ok(&sd(&lab, cfg, &["profile", "rename", "lab", "main"], None));
    assert_eq!(kept(cfg, Kind::Credential, "lab"), None);
    assert_eq!(kept(cfg, Kind::Token, "lab"), None);
    assert_eq!(kept(cfg, Kind::Credential, "main").as_deref(), Some("secret"));
    ok(&sd(&lab, cfg, &["profile", "test", "main"], None));
    ok(&sd(&lab, cfg, &["profile", "remove", "main", "lab-appcred"], None));
    assert_eq!(kept(cfg, Kind::Credential, "main"), None);
    assert_eq!(kept(cfg, Kind::Credential, "lab-appcred"), None);
    let err = failed(&sd(&lab, cfg, &["profile", "show", "main"], None));
    assert!(err.contains("there is no profile 'main'"), "{err}");
}

#[tokio::test]
#[ignore = "needs the lab and a Secret Service: tests/run (tests/with-keyring)"]
async fn a_stored_token_saves_the_login_and_is_never_reused_for_other_credentials() {
    let lab = lab(Layout::Plain);
    keyring_ready();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    ok(&sd(&lab, cfg, &["profile", "import", lab.clouds.to_str().unwrap(), "--name", "lab"], None));
    let first = sd(&lab, cfg, &["--os-cloud", "lab", "--debug", "image", "list"], None);
    ok(&first);
    assert!(stderr(&first).contains("new token for cloud lab"), "{}", stderr(&first));
    let second = sd(&lab, cfg, &["--os-cloud", "lab", "--debug", "image", "list"], None);
    ok(&second);
    let log = stderr(&second);
    assert!(log.contains("reusing the stored token for cloud lab"), "{log}");
    assert!(!log.contains("new token") && !log.contains(":5000"), "no call to Keystone at all: {log}");

    // A changed password must not ride on the old token: Keystone is asked, and refuses.
    ok(&sd(&lab, cfg, &["profile", "set-secret", "lab", "--secret-stdin"], Some("wrong-now\n")));
    let err = failed(&sd(&lab, cfg, &["--os-cloud", "lab", "image", "list"], None));
    assert!(err.contains("refused the credentials"), "{err}");
    // A stored token Glance no longer accepts (revoked, say) is replaced after its 401, once.
    ok(&sd(&lab, cfg, &["profile", "set-secret", "lab", "--secret-stdin"], Some("secret\n")));
    ok(&sd(&lab, cfg, &["--os-cloud", "lab", "image", "list"], None));
    let mut blob: Value = serde_json::from_str(&kept(cfg, Kind::Token, "lab").unwrap()).unwrap();
    blob["token"] = Value::from("gAAAAAB-not-a-token-any-more");
    keyring(cfg).set(Kind::Token, "lab", &stackdrop::openstack::Secret::new(blob.to_string())).unwrap();
    let again = sd(&lab, cfg, &["--os-cloud", "lab", "--debug", "image", "list"], None);
    ok(&again);
    assert!(stderr(&again).contains("401 from Glance") && stderr(&again).contains("new token"), "{}", stderr(&again));
}

#[test]
#[ignore = "needs the lab and a Secret Service: tests/run (tests/with-keyring)"]
fn clouds_and_secure_pair_and_both_openrc_variants() {
    let lab = lab(Layout::Plain);
    keyring_ready();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    // clouds.yaml + the secure.yaml beside it: secrets merged in, then into the keyring.
    ok(&sd(&lab, cfg, &["profile", "import", &format!("{FIXTURES}/clouds.yaml")], None));
    assert_eq!(kept(cfg, Kind::Credential, "prod").as_deref(), Some("fixture-prod-password-Xk2"));
    assert_eq!(kept(cfg, Kind::Credential, "ci").as_deref(), Some("fixture-ci-secret-Vb8"));
    let show: Value =
        serde_json::from_str(&ok(&sd(&lab, cfg, &["profile", "show", "prod", "-f", "json"], None))).unwrap();
    assert_eq!(show["region_name"], "RegionTwo");
    assert_eq!(show["interface"], "internal");
    assert_eq!(show["cacert"], "/etc/ssl/example-ca.pem");
    assert_eq!(show["secret"], "in the OS keyring");
    let file = std::fs::read_to_string(cfg.join("profiles.yaml")).unwrap();
    assert!(!file.contains("fixture-prod-password") && !file.contains("fixture-ci-secret"), "{file}");
    assert!(!file.contains("compute_api_version"), "only what matters for images is kept");
    // Export leaves the secret out unless asked.
    let exported = ok(&sd(&lab, cfg, &["profile", "export", "prod"], None));
    assert!(exported.starts_with("clouds:\n  prod:\n") && !exported.contains("password:"), "{exported}");
    let exported = ok(&sd(&lab, cfg, &["profile", "export", "prod", "--with-secrets", "-f", "json"], None));
    let doc: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(doc["clouds"]["prod"]["auth"]["password"], "fixture-prod-password-Xk2");

    // Horizon's password openrc asks for the password when sourced: so do we.
    let rc = format!("{FIXTURES}/horizon-password-openrc.sh");
    let out = sd(&lab, cfg, &["profile", "import", &rc, "--secret-stdin"], Some("secret\n"));
    ok(&out);
    assert!(stderr(&out).contains("asks for the password"), "{}", stderr(&out));
    assert_eq!(kept(cfg, Kind::Credential, "horizon-password").as_deref(), Some("secret"));
    let show: Value =
        serde_json::from_str(&ok(&sd(&lab, cfg, &["profile", "show", "horizon-password", "-f", "json"], None)))
            .unwrap();
    assert_eq!(show["project_name"], "admin");
    assert_eq!(show["project_domain_id"], "default");
    assert_eq!(show["user_domain_name"], "Default");
    assert!(show.get("project_id").is_none(), "an empty OS_PROJECT_ID is no setting: {show}");
    ok(&sd(&lab, cfg, &["profile", "test", "horizon-password"], None));
    // Without a terminal or --secret-stdin the profile is saved without it, and asked later.
    ok(&sd(&lab, cfg, &["profile", "import", &rc, "--name", "rc-nopw"], None));
    let err = failed(&sd(&lab, cfg, &["--os-cloud", "rc-nopw", "image", "list"], None));
    assert!(err.contains("profile 'rc-nopw' needs its password: no password is saved for it"), "{err}");
    let mut c = command(&lab, &["--os-cloud", "rc-nopw", "image", "list"]);
    c.env("STACKDROP_CONFIG_DIR", cfg).env("OS_PASSWORD", "secret");
    ok(&c.output().unwrap());

    // The application-credential variant carries its secret.
    ok(&sd(&lab, cfg, &["profile", "import", &format!("{FIXTURES}/horizon-appcred-openrc.sh"), "--name", "ac"], None));
    assert_eq!(kept(cfg, Kind::Credential, "ac").as_deref(), Some("fixture-appcred-secret-7Qm"));
    let show: Value =
        serde_json::from_str(&ok(&sd(&lab, cfg, &["profile", "show", "ac", "-f", "json"], None))).unwrap();
    assert_eq!(show["auth_type"], "v3applicationcredential");
    assert_eq!(show["application_credential_id"], "3e1b6e6d1b0b4f0c9a1f2e7c5d4b3a21");
    let err = failed(&sd(&lab, cfg, &["profile", "test", "ac"], None));
    assert!(err.contains("refused the application credential"), "the fixture's credential is not the lab's: {err}");

    // The shell's OS_* variables, as openstackclient's `envvars` cloud.
    let mut c = command(&lab, &["profile", "import", "--env", "--name", "from-env"]);
    c.env("STACKDROP_CONFIG_DIR", cfg);
    for (k, v) in [
        ("OS_AUTH_URL", format!("{}/v3", lab.keystone)),
        ("OS_USERNAME", "admin".into()),
        ("OS_PASSWORD", "secret".into()),
        ("OS_PROJECT_NAME", "admin".into()),
        ("OS_USER_DOMAIN_NAME", "Default".into()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".into()),
    ] {
        c.env(k, v);
    }
    ok(&c.output().unwrap());
    assert_eq!(kept(cfg, Kind::Credential, "from-env").as_deref(), Some("secret"));
    ok(&sd(&lab, cfg, &["profile", "test", "from-env"], None));

    // The same name again: refused, nothing changed.
    let err = failed(&sd(&lab, cfg, &["profile", "import", &format!("{FIXTURES}/clouds.yaml")], None));
    assert!(err.contains("'ci', 'prod' already exist") && err.contains("nothing was imported"), "{err}");
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn broken_files_name_the_file_and_line_and_import_nothing() {
    let lab = lab(Layout::Plain);
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    for (file, want) in [
        ("broken/clouds.yaml", "broken/clouds.yaml:10: cloud 'broken': the auth URL is missing"),
        ("broken/not-yaml.yaml", "broken/not-yaml.yaml:4: not valid YAML or JSON"),
        ("broken/command-openrc.sh", "broken/command-openrc.sh:4: the value runs a command"),
        ("broken/no-url-openrc.sh", "broken/no-url-openrc.sh: the file sets no OS_AUTH_URL"),
        ("broken/secure-mismatch/clouds.yaml", "secure-mismatch/secure.yaml:2: cloud 'staging' is not in"),
        ("broken", "it is a directory, not a file"),
        ("broken/none.yaml", "No such file"),
    ] {
        let err = failed(&sd(&lab, cfg, &["profile", "import", &format!("{FIXTURES}/{file}")], None));
        assert!(err.contains(want), "{file}: {err}");
        assert!(!cfg.join("profiles.yaml").exists(), "{file}: nothing is imported");
    }
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn without_a_keyring_it_says_so_and_asks_instead() {
    let lab = lab(Layout::Plain);
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let no_bus = |args: &[&str]| {
        let mut c = command(&lab, args);
        c.env("STACKDROP_CONFIG_DIR", cfg).env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        c.output().unwrap()
    };
    let clouds = lab.clouds.to_str().unwrap();
    let err = failed(&no_bus(&["profile", "import", clouds, "--name", "lab"]));
    assert!(
        err.contains("no OS keyring is reachable") && err.contains("nothing was saved") && err.contains("--no-keyring"),
        "{err}"
    );
    assert!(!cfg.join("profiles.yaml").exists());
    // Asked to go without: saved, with no secret anywhere on disk.
    let out = no_bus(&["profile", "import", clouds, "--name", "lab", "--no-keyring"]);
    ok(&out);
    assert!(!all_files(cfg).contains(": secret"), "no secret on disk");
    let list = ok(&no_bus(&["profile", "list", "-f", "value", "-c", "Name", "-c", "Secret"]));
    assert_eq!(list, "lab no_keyring\n");
    // No terminal to ask on: the message names the profile, the secret and why.
    let err = failed(&no_bus(&["--os-cloud", "lab", "image", "list"]));
    assert!(err.contains("profile 'lab' needs its password: no OS keyring is reachable"), "{err}");
}

/// One unique password, through every flow: import, test, upload (with --debug logging),
/// failures, export. It must appear in no output, log, error message or file of ours.
#[tokio::test]
#[ignore = "needs the lab and a Secret Service: tests/run (tests/with-keyring)"]
async fn a_unique_password_leaks_nowhere() {
    let lab = lab(Layout::Plain);
    keyring_ready();
    let user = unique("leak");
    let password = format!("Pw-{}-{}", std::process::id(), user.len() * 7919);
    openstack(&lab, &["user", "create", "--domain", "default", "--password", &password, &user]);
    openstack(&lab, &["role", "add", "--user", &user, "--project", "admin", "member"]);
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  leak:\n    auth:\n      auth_url: {}/v3\n      username: {user}\n      password: {password}\n      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n  leak-noproject:\n    auth:\n      auth_url: {}/v3\n      username: {user}\n      password: {password}\n      project_name: nope\n      user_domain_name: Default\n      project_domain_name: Default\n",
            lab.keystone, lab.keystone
        ),
    )
    .unwrap();
    let disk = qcow2(dir.path(), &user, 1);
    let mut seen = String::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let o = sd(&lab, cfg, args, stdin);
        seen += &format!("{}{}", stdout(&o), stderr(&o));
        o
    };
    ok(&run(&["--debug", "profile", "import", clouds.to_str().unwrap()], None));
    ok(&run(&["--debug", "profile", "test", "leak"], None));
    ok(&run(&["--debug", "profile", "show", "leak", "-f", "json"], None));
    ok(&run(&["--debug", "profile", "list", "-f", "json"], None));
    ok(&run(&["--debug", "profile", "export", "leak"], None));
    ok(&run(&["--debug", "--os-cloud", "leak", "image", "create", "--file", disk.to_str().unwrap(), &user], None));
    ok(&run(&["--debug", "--os-cloud", "leak", "image", "delete", &user], None));
    failed(&run(&["--debug", "profile", "test", "leak-noproject"], None));
    failed(&run(&["--debug", "--os-cloud", "leak-noproject", "image", "list"], None));
    // The same password, now wrong for another user.
    ok(&run(
        &[
            "profile",
            "add",
            "wrong",
            "--os-auth-url",
            &format!("{}/v3", lab.keystone),
            "--os-username",
            "admin",
            "--os-user-domain-name",
            "Default",
            "--os-project-name",
            "admin",
            "--os-project-domain-name",
            "Default",
            "--secret-stdin",
        ],
        Some(&format!("{password}\n")),
    ));
    failed(&run(&["--debug", "--os-cloud", "wrong", "image", "list"], None));
    ok(&run(&["profile", "rename", "leak", "leak2"], None));
    ok(&run(&["profile", "remove", "leak2", "leak-noproject", "wrong"], None));

    assert!(seen.contains("reusing the stored token") || seen.contains("new token"), "the flows ran with logging");
    assert!(!seen.contains(&password), "the password appeared in our output or logs");
    assert!(!all_files(cfg).contains(&password), "the password is in a file under the profile directory");
    openstack(&lab, &["user", "delete", &user]);
}
