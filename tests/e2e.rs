//! End to end in the real app window: tauri-driver + WebKitWebDriver under Xvfb, against the
//! lab. Files arrive by a real OS drag-and-drop from another X window (tests/drag/dragsrc.py
//! moved by xdotool). Screenshots of each screen go to target/screenshots/.
//!
//! `#[ignore]`d for a plain `cargo test`; tests/run runs it with `--include-ignored` and
//! provides Xvfb, tauri-driver and the lab.

mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support::lab::{images_named, lab, openstack, qcow2, session, sparse_file, unique, Layout};

/// Stops a child with SIGTERM (tauri-driver only stops its WebKitWebDriver on TERM/INT).
struct Term(Child);
impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

fn sh(cmd: &str) {
    let ok = Command::new("sh").arg("-c").arg(cmd).status().unwrap().success();
    assert!(ok, "{cmd}");
}

/// A real drag of `path` from a GTK window at the right of the screen onto the app window.
fn drag_onto_app(path: &Path) {
    drag_many_onto_app(&[path]);
}

/// A real drag of several files at once (one drag, as from a file manager's selection).
fn drag_many_onto_app(paths: &[&Path]) {
    let src = Term(
        Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/drag/dragsrc.py"))
            .args(paths)
            .spawn()
            .expect("python3-gi"),
    );
    sh("timeout 20 xdotool search --sync --name '^dragsrc$' >/dev/null && sleep 0.7");
    sh("xdotool mousemove 1075 90 mousedown 1; for x in 1060 1000 900 800 700 600 500 480; do xdotool mousemove $x 300; sleep 0.1; done; sleep 0.4; xdotool mouseup 1; sleep 0.3");
    drop(src);
}

/// The element's rendered text (`innerText`; "" when it is not displayed), read by the page
/// itself: WebKitWebDriver's own element text leaves out text that overflows a box with
/// `overflow: hidden` (an ellipsis), which the header's status and the queue's names use. A
/// select's text is its options', one per line, as WebDriver gives it.
async fn text(c: &Client, css: &str) -> String {
    let script = "const e = document.querySelector(arguments[0]); \
                  if (!e || !e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') return ''; \
                  return e.tagName === 'SELECT' ? [...e.options].map((o) => o.text).join('\\n') : e.innerText";
    c.execute(script, vec![json!(css)]).await.unwrap().as_str().unwrap_or_default().to_owned()
}

/// Wait until the element's text contains `want`.
async fn wait_text(c: &Client, css: &str, want: &str, secs: u64) -> String {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < end {
        last = text(c, css).await;
        if last.contains(want) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("{css}: waited {secs}s for {want:?}, last saw {last:?}");
}

async fn wait_present(c: &Client, css: &str, secs: u64) {
    wait_for(c, css, true, secs).await
}

async fn wait_gone(c: &Client, css: &str, secs: u64) {
    wait_for(c, css, false, secs).await
}

/// Wait until an element matching `css` is there (or, with `present` false, gone).
async fn wait_for(c: &Client, css: &str, present: bool, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if c.find(Locator::Css(css)).await.is_ok() == present {
            return;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("{css}: still {} after {secs}s", if present { "missing" } else { "there" });
}

/// Every screen the test photographs is also audited with axe-core (from npm, pinned in
/// tests/setup), in the light and the dark theme; the findings are gathered here and judged
/// at the end of the run (any serious or critical one fails it).
static AUDIT: std::sync::Mutex<Vec<Finding>> = std::sync::Mutex::new(Vec::new());

#[derive(Debug, Clone, serde::Deserialize)]
struct Finding {
    #[serde(default)]
    screen: String,
    #[serde(default)]
    theme: String,
    rule: String,
    impact: Option<String>,
    nodes: usize,
    targets: String,
    why: String,
}

fn axe_source() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e} (tests/setup installs axe-core)", p.display()))
}

async fn audit(c: &Client, screen: &str) {
    if js(c, "return typeof window.axe").await != json!("object") {
        c.execute(&format!("{}\nreturn 1", axe_source()), vec![]).await.unwrap();
    }
    let before = js(c, "return document.documentElement.dataset.theme || ''").await;
    for theme in ["light", "dark"] {
        js(c, &format!("document.documentElement.dataset.theme = '{theme}'; return 1")).await;
        let found = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(
                   (r) => done(r.violations.map((v) => ({ rule: v.id, impact: v.impact, nodes: v.nodes.length,
                     targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '),
                     why: (v.nodes[0]?.failureSummary ?? '').replace(/\\s+/g, ' ') }))),
                   (e) => done(String(e)))",
                vec![],
            )
            .await
            .unwrap();
        let list: Vec<Finding> =
            serde_json::from_value(found.clone()).unwrap_or_else(|_| panic!("axe on {screen}: {found}"));
        AUDIT.lock().unwrap().extend(list.into_iter().map(|f| Finding {
            screen: screen.into(),
            theme: theme.into(),
            ..f
        }));
    }
    restore_theme(c, &before).await;
}

async fn restore_theme(c: &Client, before: &serde_json::Value) {
    let restore = match before.as_str() {
        Some(t) if !t.is_empty() => format!("document.documentElement.dataset.theme = '{t}'; return 1"),
        _ => "delete document.documentElement.dataset.theme; return 1".into(),
    };
    js(c, &restore).await;
}

/// The audit's verdict: counts by rule (every impact), and no serious or critical finding.
fn audit_verdict() {
    let all = AUDIT.lock().unwrap().clone();
    let screens: std::collections::BTreeSet<_> = all.iter().map(|f| f.screen.clone()).collect();
    let mut by_rule: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for f in &all {
        *by_rule.entry((f.impact.clone().unwrap_or_default(), f.rule.clone())).or_default() += f.nodes;
    }
    println!("e2e: axe-core findings by rule ({} audits with findings):", screens.len());
    for ((impact, rule), n) in &by_rule {
        println!("  {impact:>8} {rule}: {n} element(s)");
    }
    let bad: Vec<String> = all
        .iter()
        .filter(|f| matches!(f.impact.as_deref(), Some("serious" | "critical")))
        .map(|f| format!("{} ({}): {} × {} at {}: {}", f.screen, f.theme, f.rule, f.nodes, f.targets, f.why))
        .collect();
    assert!(bad.is_empty(), "serious or critical accessibility findings:\n{}", bad.join("\n"));
}

async fn shot(c: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    // After two animation frames the page has painted what the test just waited for.
    let painted = "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(1)))";
    c.execute_async(painted, vec![]).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    // The same screen in the dark theme, then the theme as it was.
    let before = js(c, "return document.documentElement.dataset.theme || ''").await;
    js(c, "document.documentElement.dataset.theme = 'dark'; return 1").await;
    c.execute_async(painted, vec![]).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}-dark.png")), png).unwrap();
    restore_theme(c, &before).await;
    audit(c, name).await;
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

#[tokio::test]
#[ignore = "needs the lab, Xvfb and tauri-driver: tests/run"]
async fn the_whole_app_in_its_window() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("e2e");
    let disk = qcow2(dir.path(), &name, 8);
    let s = session(&lab, "lab");
    let mut sc = Scenarios::default();

    let port = 4444;
    let driver = Term(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string()])
            .env("OS_CLIENT_CONFIG_FILE", &lab.clouds)
            .env("OS_CLIENT_SECURE_FILE", "/nonexistent")
            .env("OS_CLOUD", "lab")
            .env("STACKDROP_CONFIG_DIR", dir.path().join("no-profiles"))
            .env("GSETTINGS_BACKEND", "memory")
            .spawn()
            .expect("tauri-driver on PATH (cargo install tauri-driver)"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({"application": env!("CARGO_BIN_EXE_stackdrop")}));
    let c = connect(port, &caps).await;

    sc.run("window opens connected to the clouds.yaml cloud", async {
        // 1. The window opens connected to the lab cloud.
        assert_eq!(c.title().await.unwrap(), "Stackdrop");
        wait_text(&c, "#cloud-status", "Connected: admin in project admin", 30).await;
        shot(&c, "01-connected").await;
    })
    .await;
    sc.run("drop, upload, list, delete", async {
        // 2. A real drag-and-drop of a qcow2 adds a queue row, selected, its settings prefilled
        // in the side panel (min disk from the virtual size).
        drag_onto_app(&disk);
        wait_present(&c, ".row", 15).await;
        assert_eq!(text(&c, ".row .file-name").await, format!("{name}.qcow2"));
        // The headers were read as soon as it was dropped: format and virtual size.
        let meta = text(&c, ".row .file-meta").await;
        assert!(meta.ends_with("· qcow2, 8.0 MiB virtual"), "{meta}");
        assert_eq!(text(&c, "#upload-all").await, "Upload all (1)");
        assert_eq!(js(&c, "return document.querySelector('#settings [name=min_disk]').value").await, json!("1"));
        assert_eq!(js(&c, "return document.querySelector('#settings [name=name]').value").await, json!(name));
        assert_eq!(js(&c, "return document.querySelector('#settings [name=disk_format]').value").await, json!("qcow2"));
        set_field(&c, "tags", "e2e").await;
        set_field(&c, "properties", "os_distro=cirros").await;
        shot(&c, "02-form").await;

        // 3. Upload: progress to the end, the row collapses to "✓ active · id", checksums kept.
        click(&c, "#upload-all").await;
        wait_present(&c, ".row[data-state=done]", 90).await;
        assert_eq!(text(&c, ".row .badge").await, "✓ active");
        let id = text(&c, ".row .image-id").await;
        assert_eq!(id.len(), 36, "{id}");
        let md5 = format!("{:x}", <md5::Md5 as md5::Digest>::digest(std::fs::read(&disk).unwrap()));
        assert!(js(&c, "return document.querySelector('.row .sums').textContent")
            .await
            .as_str()
            .unwrap()
            .contains(&md5));
        // Done is done: no "upload again" from the queue, the settings are locked.
        assert_eq!(js(&c, "return document.querySelector('#upload-all').disabled").await, json!(true));
        assert_eq!(js(&c, "return document.querySelector('#settings [name=name]').disabled").await, json!(true));
        shot(&c, "03-uploaded").await;
        let img = s.images().get(&id).await.unwrap();
        assert_eq!(img.status(), "active");
        assert_eq!(img.other_str("os_distro"), Some("cirros"));

        // 4. The Images list shows it; delete it with confirmation; the lab no longer has it.
        c.find(Locator::Css("#tab-images")).await.unwrap().click().await.unwrap();
        let row = format!("#images tr[data-id='{id}']");
        wait_present(&c, &row, 20).await;
        assert!(text(&c, &row).await.contains(&name));
        shot(&c, "04-images").await;
        c.find(Locator::Css(&format!("{row} .details"))).await.unwrap().click().await.unwrap();
        wait_text(&c, "#details-title", &name, 10).await;
        c.find(Locator::Css("#d-delete")).await.unwrap().click().await.unwrap();
        wait_text(&c, "#confirm-text", &id, 5).await;
        shot(&c, "05-confirm-delete").await;
        c.find(Locator::Css("#confirm-yes")).await.unwrap().click().await.unwrap();
        wait_gone(&c, &row, 20).await;
        assert_eq!(s.images().get(&id).await.unwrap_err().status(), Some(404));
    })
    .await;
    sc.run("cancel mid-upload removes the image", async {
        // 5. Cancel mid-upload: the half-made image is removed.
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        let big_name = unique("e2e-cancel");
        start_big_upload(&c, dir.path(), &big_name).await;
        shot(&c, "06-uploading").await;
        click(&c, ".row .cancel").await;
        wait_present(&c, ".row[data-state=cancelled]", 30).await;
        let msg = text(&c, ".row .error").await;
        assert!(msg.starts_with("cancelled; image ") && msg.ends_with(" was deleted"), "{msg}");
        assert!(images_named(&lab, &big_name).await.is_empty());
        // Remove on a running row cancels it first: the row goes and nothing is left in Glance.
        let removed = unique("e2e-remove");
        start_big_upload(&c, dir.path(), &removed).await;
        click(&c, ".row[data-state=running] .remove").await;
        wait_gone(&c, ".row", 30).await;
        assert!(images_named(&lab, &removed).await.is_empty(), "Remove left the half-made image");
    })
    .await;
    sc.run("ten files: one drop, one batch edit, upload all", async {
        // The queue's promise: ten files need one drop and a handful of actions, not ten forms.
        // Every action after the drop is a real WebDriver click or typing, and is counted.
        clear_queue(&c).await;
        let prefix = unique("e2e-ten");
        let files: Vec<_> = (0..10)
            .map(|i| support::lab::random_file(dir.path(), &format!("{prefix}-{i}.raw"), 64 * 1024 * (i + 1)))
            .collect();
        drag_many_onto_app(&files.iter().map(|f| f.as_path()).collect::<Vec<_>>());
        wait_for_count(&c, ".row", 10, 20).await;
        // The dropped files arrive selected: the side panel edits all ten.
        assert_eq!(text(&c, "#settings-title").await, "Settings of 10 files");
        let mut actions = 0;
        c.find(Locator::Css("#settings [name=visibility]")).await.unwrap().select_by_value("community").await.unwrap();
        actions += 1;
        c.find(Locator::Css("#settings [name=tags]")).await.unwrap().send_keys("batch-e2e").await.unwrap();
        actions += 1;
        c.find(Locator::Css("#settings [name=properties]")).await.unwrap().send_keys("os_distro=cirros").await.unwrap();
        actions += 1;
        assert_eq!(text(&c, "#upload-all").await, "Upload all (10)");
        shot(&c, "19-queue-ten").await;
        click(&c, "#upload-all").await;
        actions += 1;
        println!("e2e: ten files uploaded with {actions} interactions after the drop (goal: at most 5)");
        assert!(actions <= 5);
        wait_for_count(&c, ".row[data-state=done]", 10, 120).await;
        shot(&c, "20-queue-done").await;
        let ids = js(&c, "return [...document.querySelectorAll('.row .image-id')].map((e) => e.textContent)").await;
        let ids: Vec<String> = serde_json::from_value(ids).unwrap();
        assert_eq!(ids.len(), 10);
        for id in &ids {
            let img = s.images().get(id).await.unwrap();
            assert_eq!(img.status(), "active", "{id}");
            assert_eq!(img.visibility.as_deref(), Some("community"), "{id}");
            assert_eq!(img.tags, vec!["batch-e2e".to_owned()], "{id}");
            assert_eq!(img.other_str("os_distro"), Some("cirros"), "{id}");
            assert!(img.name().unwrap().starts_with(&prefix), "each file keeps its own name");
        }
        // The choices are remembered for this cloud's next files; Clear finished empties it.
        click(&c, "#clear-finished").await;
        wait_gone(&c, ".row", 10).await;
        for id in &ids {
            s.images().delete(id).await.unwrap();
        }
    })
    .await;
    sc.run("keyboard only: Ctrl+O, a name, Ctrl+Enter, active", async {
        // One file from nothing to active with the keyboard alone: every input below is a key
        // pressed on the X display (xdotool, through XTEST as a keyboard would), none a
        // WebDriver click. WebDriver only reads the page.
        clear_queue(&c).await;
        let keys_name = unique("e2e-keys");
        let f = support::lab::random_file(dir.path(), "keys.raw", 300_000);
        let app = "w=$(xdotool search --onlyvisible --name '^Stackdrop$' | head -1); xdotool windowfocus --sync $w";
        sh(&format!("{app}; xdotool key ctrl+o"));
        sh("timeout 20 xdotool search --sync --name '^Choose disk images$' >/dev/null && sleep 0.8");
        sh(&format!(
            "w=$(xdotool search --name '^Choose disk images$' | head -1); xdotool windowfocus --sync $w; xdotool key ctrl+l; sleep 0.2; xdotool type --delay 120 '{}'; sleep 0.3; xdotool key Return",
            f.display()
        ));
        wait_present(&c, ".row", 15).await;
        // The new file's name has the focus, ready to be typed over.
        assert_eq!(js(&c, "return document.activeElement.name").await, json!("name"));
        sh(&format!("{app}; xdotool key ctrl+a; xdotool type --delay 40 '{keys_name}'; sleep 0.2; xdotool key ctrl+Return"));
        wait_present(&c, ".row[data-state=done]", 90).await;
        // Focus was never lost on the way: it is on something in the page, not the body.
        assert_ne!(js(&c, "return document.activeElement.tagName").await, json!("BODY"));
        let id = text(&c, ".row .image-id").await;
        let img = s.images().get(&id).await.unwrap();
        assert_eq!(img.name(), Some(keys_name.as_str()));
        assert_eq!(img.status(), "active");
        s.images().delete(&id).await.unwrap();
        click(&c, "#clear-finished").await;
    })
    .await;
    sc.run("folders and a backed qcow2 are refused on drop", async {
        // 6. Dropping a folder is refused with the reason.
        let folder = dir.path().join("a-folder");
        std::fs::create_dir(&folder).unwrap();
        drag_onto_app(&folder);
        wait_text(&c, "#refused", "a-folder: it is a directory", 15).await;

        // 6b. A qcow2 with a backing file is refused on the spot, with Glance's reason.
        let backed = dir.path().join("backed.qcow2");
        sh(&format!("qemu-img create -q -f qcow2 -b {} -F qcow2 {}", disk.display(), backed.display()));
        drag_onto_app(&backed);
        wait_text(&c, "#refused", "backed.qcow2: Glance would refuse it: it has a backing file", 15).await;
    })
    .await;
    sc.run("glance-direct, copy-image, web-download", async {
        // 6c. glance-direct from a card, copy-image from the details, web-download from a URL.
        clear_queue(&c).await;
        drag_onto_app(&disk);
        wait_present(&c, ".row", 15).await;
        let imported = unique("e2e-import");
        set_field(&c, "name", &imported).await;
        set_field(&c, "method", "glance-direct").await;
        click(&c, "#upload-all").await;
        wait_present(&c, ".row[data-state=done]", 90).await;
        let id2 = text(&c, ".row .image-id").await;
        c.find(Locator::Css("#tab-images")).await.unwrap().click().await.unwrap();
        let row2 = format!("#images tr[data-id='{id2}']");
        wait_present(&c, &row2, 20).await;
        c.find(Locator::Css(&format!("{row2} .details"))).await.unwrap().click().await.unwrap();
        wait_text(&c, "#details-title", &imported, 10).await;
        // The stores offered are the cloud's (/v2/info/stores), less those holding it.
        wait_present(&c, "#copy-to:not([hidden]) #copy-stores input[value=fs2]", 10).await;
        assert_eq!(js(&c, "return document.querySelectorAll('#copy-stores input').length").await, json!(1));
        click(&c, "#copy-stores input[value=fs2]").await;
        assert_eq!(
            js(&c, "return document.querySelector('#copy-stores input[value=fs2]').checked").await,
            json!(true),
            "the click checked fs2"
        );
        click(&c, "#copy-go").await;
        wait_text(&c, "#d-status", "fs2", 60).await;
        js(&c, "document.querySelector('#details').scrollTop = 0; return 1").await;
        shot(&c, "09-copied").await;
        assert!(s.images().get(&id2).await.unwrap().other_str("stores").unwrap().contains("fs2"));
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:18080").expect("port 18080");
        let body = std::fs::read(&disk).unwrap();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let n = std::io::Read::read(&mut conn, &mut buf).unwrap_or(0);
                if String::from_utf8_lossy(&buf[..n]).starts_with("GET /slow") {
                    // 64 MiB promised, a byte every 100 ms: Glance is busy until cancelled.
                    std::thread::spawn(move || {
                        let head = "HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\nConnection: close\r\n\r\n";
                        let _ = std::io::Write::write_all(&mut conn, head.as_bytes());
                        while std::io::Write::write_all(&mut conn, b"\0").is_ok() {
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    });
                    continue;
                }
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = std::io::Write::write_all(&mut conn, head.as_bytes());
                let _ = std::io::Write::write_all(&mut conn, &body);
            }
        });
        // Add from URL…: the dialog closes on the first submit (a double click makes one image)
        // and the job joins the queue; the row ends active with the image's id.
        clear_queue(&c).await;
        let fetched = unique("e2e-web");
        click(&c, "#add-url").await;
        wait_present(&c, "#url-dialog[open]", 5).await;
        c.find(Locator::Css("#url-form [name=uri]")).await.unwrap().send_keys("http://127.0.0.1:18080/d.qcow2").await.unwrap();
        assert_eq!(js(&c, "return document.querySelector('#url-form [name=name]').value").await, json!("d"), "named from the URL");
        js(&c, &format!("document.querySelector('#url-form [name=name]').value = '{fetched}'; return 1")).await;
        shot(&c, "21-add-from-url").await;
        js(&c, "const b = document.querySelector('#url-form button[type=submit]'); b.click(); b.click(); return 1").await;
        wait_present(&c, ".row[data-state=done]", 60).await;
        assert_eq!(js(&c, "return document.querySelectorAll('.row').length").await, json!(1));
        let id3 = text(&c, ".row .image-id").await;
        assert_eq!(images_named(&lab, &fetched).await.len(), 1, "one image for a double submit");
        assert_eq!(s.images().get(&id3).await.unwrap().name(), Some(fetched.as_str()));
        for id in [&id2, &id3] {
            s.images().delete(id).await.unwrap();
        }
        // A web-download can be cancelled from its row: Cancel stops it and the image Glance
        // was filling is deleted.
        clear_queue(&c).await;
        let slow = unique("e2e-web-cancel");
        click(&c, "#add-url").await;
        js(&c, &format!("const f = document.querySelector('#url-form').elements; f.uri.value = 'http://127.0.0.1:18080/slow.qcow2'; f.name.value = '{slow}'; return 1")).await;
        click(&c, "#url-form button[type=submit]").await;
        wait_present(&c, ".row[data-state=running]", 10).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        click(&c, ".row .cancel").await;
        wait_present(&c, ".row[data-state=cancelled]", 60).await;
        let st = text(&c, ".row .error").await;
        assert!(st.starts_with("cancelled") && st.contains("was deleted"), "{st}");
        assert!(images_named(&lab, &slow).await.is_empty(), "nothing left of {slow}");
    })
    .await;
    sc.run("copy an image to another cloud from its drawer", async {
        // The drawer's "Copy to another cloud…" to lab-demo (another project of the lab: the
        // data streams out of Glance and back in as that user). The job joins the queue.
        clear_queue(&c).await;
        let copied = unique("e2e-copy");
        let f = support::lab::random_file(dir.path(), &format!("{copied}.raw"), 3 << 20);
        let mut data = std::fs::read(&f).unwrap();
        data[..copied.len()].copy_from_slice(copied.as_bytes());
        std::fs::write(&f, &data).unwrap();
        let spec = stackdrop::upload::ImageSpec {
            name: copied.clone(),
            disk_format: "raw".into(),
            container_format: "bare".into(),
            ..Default::default()
        };
        let source = stackdrop::upload::create_and_upload(&s, &spec, &f, &Default::default()).await.unwrap().image;
        c.find(Locator::Css("#tab-images")).await.unwrap().click().await.unwrap();
        let row = format!("#images tr[data-id='{}']", source.id());
        wait_present(&c, &row, 20).await;
        click(&c, &format!("{row} .details")).await;
        wait_text(&c, "#details-title", &copied, 10).await;
        click(&c, "#d-copy-cloud").await;
        wait_present(&c, "#copy-cloud-dialog[open]", 5).await;
        // Every other cloud is offered, not the one in use; the name is the source's.
        let offered = js(&c, "return [...document.querySelectorAll('#copy-cloud-form [name=to]')].map((o) => o.value)").await;
        assert!(offered.as_array().unwrap().contains(&json!("lab-demo")), "{offered}");
        assert!(!offered.as_array().unwrap().contains(&json!("lab")), "{offered}");
        assert_eq!(js(&c, "return document.querySelector('#copy-cloud-form [name=name]').value").await, json!(copied));
        // Two clouds at once: lab-demo, and lab-badpass, whose password Keystone refuses.
        click(&c, "#copy-cloud-form [name=to][value=lab-demo]").await;
        click(&c, "#copy-cloud-form [name=to][value=lab-badpass]").await;
        shot(&c, "34-copy-to-cloud").await;
        click(&c, "#copy-cloud-form button[type=submit]").await;
        // The upload tab shows the job, a line per cloud: lab-demo's copy active and verified
        // in its project, lab-badpass's line failed; the row says so.
        wait_present(&c, "#upload-view:not([hidden]) .row[data-state=failed]", 60).await;
        // The clouds in the order the dialog lists them.
        assert!(text(&c, ".row .file-meta").await.starts_with("copy from lab to lab-badpass, lab-demo"));
        let lines = js(&c, "return [...document.querySelectorAll('.row .targets li')].map((l) => [l.dataset.target, l.dataset.state, l.textContent])").await;
        let lines = lines.as_array().unwrap();
        assert_eq!((&lines[0][0], &lines[0][1]), (&json!("lab-badpass"), &json!("failed")), "{lines:?}");
        assert_eq!((&lines[1][0], &lines[1][1]), (&json!("lab-demo"), &json!("done")), "{lines:?}");
        let line = lines[1][2].as_str().unwrap();
        let id = line.rsplit(' ').next().unwrap().to_owned();
        assert_eq!(id.len(), 36, "{line}");
        assert_ne!(id, source.id());
        shot(&c, "35-copy-done").await;
        let demo = session(&lab, "lab-demo");
        let copy = demo.images().get(&id).await.unwrap();
        assert_eq!(copy.checksum, source.checksum);
        assert_ne!(copy.owner, source.owner, "the copy belongs to lab-demo's project");
        // Again: lab-demo already holds the same data, so nothing is sent.
        c.find(Locator::Css("#tab-images")).await.unwrap().click().await.unwrap();
        wait_present(&c, &row, 20).await;
        click(&c, &format!("{row} .details")).await;
        wait_text(&c, "#details-title", &copied, 10).await;
        click(&c, "#d-copy-cloud").await;
        wait_present(&c, "#copy-cloud-dialog[open]", 5).await;
        click(&c, "#copy-cloud-form [name=to][value=lab-demo]").await;
        click(&c, "#copy-cloud-form button[type=submit]").await;
        wait_for_count(&c, ".row[data-state=done]", 1, 60).await;
        let sums = js(&c, "return document.querySelector('.row:last-child .sums').textContent").await;
        assert!(sums.as_str().unwrap().contains("already in lab-demo with the same data"), "{sums}");
        assert_eq!(js(&c, "return document.querySelector('.row:last-child .image-id').textContent").await, json!(id));
        demo.images().delete(&id).await.unwrap();
        s.images().delete(source.id()).await.unwrap();
    })
    .await;
    sc.run("one file to several clouds at once, a line per cloud", async {
        // "Also upload to: lab-demo": one read, an image in each cloud, each verified.
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        clear_queue(&c).await;
        let both = unique("e2e-both");
        let f = sparse_file(dir.path(), &format!("{both}.raw"), 4 << 20);
        drag_onto_app(&f);
        wait_present(&c, ".row", 15).await;
        let boxes = js(&c, "return [...document.querySelectorAll('#s-also input')].map((i) => i.dataset.also)").await;
        assert!(boxes.as_array().unwrap().contains(&json!("lab-demo")), "{boxes}");
        assert!(!boxes.as_array().unwrap().contains(&json!("lab")), "not the cloud in use: {boxes}");
        click(&c, "#s-also input[data-also=lab-demo]").await;
        // And a cloud whose password Keystone refuses: that line fails, the others go on.
        click(&c, "#s-also input[data-also=lab-badpass]").await;
        shot(&c, "36-also-upload-to").await;
        click(&c, "#upload-all").await;
        wait_present(&c, ".row[data-state=failed]", 90).await;
        let lines = js(&c, "return [...document.querySelectorAll('.row .targets li')].map((l) => [l.dataset.target, l.dataset.state, l.textContent])").await;
        let lines = lines.as_array().unwrap();
        let states: Vec<_> = lines.iter().map(|l| (l[0].as_str().unwrap(), l[1].as_str().unwrap())).collect();
        assert_eq!(states, [("lab", "done"), ("lab-badpass", "failed"), ("lab-demo", "done")], "{lines:?}");
        assert_eq!(text(&c, ".row .error").await, "1 of 3 clouds did not get it: lab-badpass");
        assert!(lines[1][2].as_str().unwrap().contains("refused the credentials"), "{lines:?}");
        shot(&c, "37-several-clouds").await;
        let demo = session(&lab, "lab-demo");
        // lab-demo sees its own only; lab's admin sees every project's.
        let theirs = demo.images().list(&[("name", &both)]).await.unwrap();
        assert_eq!(theirs.len(), 1, "one image in lab-demo's project");
        let mine: Vec<_> = images_named(&lab, &both).await.into_iter().filter(|i| i.owner != theirs[0].owner).collect();
        assert_eq!(mine.len(), 1, "one image in lab's project");
        assert_eq!(theirs[0].checksum, mine[0].checksum);
        assert!(lines[0][2].as_str().unwrap().contains(mine[0].id()), "{lines:?}");
        assert!(lines[2][2].as_str().unwrap().contains(theirs[0].id()), "{lines:?}");
        s.images().delete(mine[0].id()).await.unwrap();
        demo.images().delete(theirs[0].id()).await.unwrap();
        clear_queue(&c).await;
    })
    .await;
    sc.run("a mostly empty raw disk is offered as qcow2, its saving shown", async {
        clear_queue(&c).await;
        let sparse = unique("e2e-sparse");
        let f = sparse_file(dir.path(), &format!("{sparse}.raw"), 64 << 20);
        {
            use std::io::{Seek, Write};
            let mut w = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
            w.seek(std::io::SeekFrom::Start(8 << 20)).unwrap();
            w.write_all(&vec![7u8; 1 << 20]).unwrap();
        }
        drag_onto_app(&f);
        wait_present(&c, ".row", 15).await;
        assert!(text(&c, ".row .file-meta").await.contains("of data"));
        wait_present(&c, "#s-convert:not([hidden])", 5).await;
        let saving = text(&c, "#s-convert-saving").await;
        assert!(saving.contains("of data in 64.0 MiB"), "{saving}");
        click(&c, "#settings [name=convert]").await;
        shot(&c, "38-send-as-qcow2").await;
        click(&c, "#upload-all").await;
        wait_present(&c, ".row[data-state=done]", 90).await;
        let img = s.images().get(&text(&c, ".row .image-id").await).await.unwrap();
        assert_eq!(img.disk_format.as_ref().map(|f| f.as_str().to_owned()).as_deref(), Some("qcow2"));
        assert_eq!(img.virtual_size, Some(64 << 20));
        assert!(img.size().unwrap() < 2 << 20, "only the data was sent: {:?}", img.size());
        s.images().delete(img.id()).await.unwrap();
        clear_queue(&c).await;
    })
    .await;
    sc.run("the image manager: search, filter, sort, edit, share, download, bulk delete", async {
        image_manager(&c, &lab, dir.path()).await;
    })
    .await;
    sc.run("a wrong password in plain words", async {
        // 7. A cloud with a wrong password shows Keystone's refusal in plain words.
        js(&c, "const s = document.querySelector('#cloud'); s.value = 'lab-badpass'; s.dispatchEvent(new Event('change')); return 1").await;
        // The header says "not connected"; the banner says why, with what can be done about it
        // (a clouds.yaml cloud: its password is not Stackdrop's to change, so: try again).
        wait_text(&c, "#banner-text", "refused the credentials", 30).await;
        assert_eq!(text(&c, "#cloud-status").await, "Not connected to lab-badpass");
        assert_eq!(js(&c, "return [...document.querySelectorAll('#banner-actions button')].map((b) => b.textContent)").await, json!(["Try again"]));
        shot(&c, "07-wrong-password").await;
    })
    .await;
    close_app(c).await;
    drop(driver);

    // The app with no cloud at all, its profiles in a throwaway directory.
    let profiles = tempfile::tempdir().unwrap();
    let driver = driver_without_clouds(port, &dir.path().join("none.yaml"), profiles.path(), &[]);
    let mut c = connect(port, &caps).await;
    let user = unique("e2e-user");
    let password = format!("E2e-{}-{}", std::process::id(), user.len() * 104729);
    use stackdrop::config::secrets::{Kind, OsKeyring, SecretStore};
    let keyring = OsKeyring::new(stackdrop::config::ProfileStore::at(profiles.path()).keyring_namespace());
    sc.run("first screen without a cloud", async {
        // 8. With no cloud configured at all, the first screen says how to add one.
        wait_text(&c, "#cloud-status", "No cloud configured", 30).await;
        assert_eq!(js(&c, "return document.querySelector('#no-cloud').hidden").await, json!(false));
        assert!(text(&c, "#no-cloud").await.contains("clouds.yaml"));
        shot(&c, "08-no-cloud").await;
    })
    .await;
    sc.run("import a dropped clouds.yaml (a broken one first)", async {
        // 10. Dropping the lab's clouds.yaml on the window offers to import it; the secrets go to
        // the keyring (gnome-keyring in tests/run), the profile file holds none.
        // A broken one first: the bar names the file, the line and what is wrong; nothing to import.
        let broken = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles/broken/clouds.yaml");
        drag_onto_app(Path::new(broken));
        wait_text(&c, "#import-problem", "broken/clouds.yaml:10: cloud 'broken': the auth URL is missing", 15).await;
        assert_eq!(
            js(&c, "return document.querySelector('#import-offer button[type=submit]').disabled").await,
            json!(true)
        );
        drag_onto_app(&lab.clouds);
        wait_present(&c, "#import-offer:not([hidden])", 15).await;
        assert_eq!(text(&c, "#import-file").await, "clouds.yaml");
        wait_text(&c, "#import-offer [name=only]", "all 5 clouds", 10).await;
        assert_eq!(js(&c, "return document.querySelector('#import-problem').hidden").await, json!(true));
        shot(&c, "10-import-offer").await;
        c.find(Locator::Css("#import-offer button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(&c, "#profiles-status", "Imported lab, lab-appcred, lab-badpass, lab-demo, lab-noproject.", 20).await;
        wait_text(&c, "#profile-list [data-name='lab'] .p-secret", "in the OS keyring", 10).await;
        let file = std::fs::read_to_string(profiles.path().join("profiles.yaml")).unwrap();
        assert!(file.contains("username: admin") && !file.contains("password:"), "{file}");
    })
    .await;
    sc.run("test connection, step by step", async {
        // 11. Test connection: each step of the sequence, as it happens; a failing step in words.
        // The profiles as a list; the selected one's detail beside it, the test inline in it.
        profile_action(&c, "lab", "test").await;
        wait_text(&c, "#test-result", "Every step passed", 30).await;
        assert_eq!(text(&c, "#profile-list [data-name='lab'] .p-who").await, "admin@admin");
        assert!(text(&c, "#detail-fields").await.contains("Password"));
        assert_eq!(js(&c, "return document.querySelectorAll('#test-steps li[data-state=ok]').length").await, json!(6));
        assert!(text(&c, "#test-steps li[data-step=stores]").await.contains("fs, fs2"));
        shot(&c, "11-test-connection").await;
        profile_action(&c, "lab-badpass", "test").await;
        wait_text(&c, "#test-result", "refused the credentials", 30).await;
        assert_eq!(
            js(&c, "return document.querySelector('#test-steps li[data-step=token]').dataset.state").await,
            json!("failed")
        );
        assert_eq!(js(&c, "return document.querySelector('#test-steps li[data-step=catalog]')").await, json!(null));
    })
    .await;
    sc.run("upload with an imported profile", async {
        // 12. Upload with the imported profile (the first imported one is now the chosen cloud).
        assert_eq!(js(&c, "return document.querySelector('#cloud').value").await, json!("lab"));
        wait_text(&c, "#cloud-status", "Connected: admin in project admin", 30).await;
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        clear_queue(&c).await;
        drag_onto_app(&disk);
        wait_present(&c, ".row", 15).await;
        let via_profile = unique("e2e-profile");
        set_field(&c, "name", &via_profile).await;
        click(&c, "#upload-all").await;
        wait_present(&c, ".row[data-state=done]", 90).await;
        let id4 = text(&c, ".row .image-id").await;
        assert_eq!(s.images().get(&id4).await.unwrap().name(), Some(via_profile.as_str()));
        s.images().delete(&id4).await.unwrap();
    })
    .await;
    sc.run("a profile by hand, its secret asked for after a restart", async {
        let c = &mut c;
        // 13. A profile added by hand whose secret is not kept: the app asks for it on connect.
        openstack(&lab, &["user", "create", "--domain", "default", "--password", &password, &user]);
        openstack(&lab, &["role", "add", "--user", &user, "--project", "admin", "member"]);
        c.find(Locator::Css("#tab-profiles")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#profile-add")).await.unwrap().click().await.unwrap();
        wait_present(c, "#profile-editor:not([hidden])", 5).await;
        js(c, &format!(
            "const f = document.querySelector('#profile-editor').elements; f.name.value = 'by-hand'; f.auth_url.value = '{}/v3';
             f.username.value = '{user}'; f.project_name.value = 'admin'; f.ask_each_time.checked = true;
             f.convert.checked = true; return 1",
            lab.keystone
        ))
        .await;
        c.find(Locator::Css("#profile-editor [name=secret]")).await.unwrap().send_keys(&password).await.unwrap();
        shot(c, "12-profile-editor").await;
        c.find(Locator::Css("#profile-editor button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#profiles-status", "Saved by-hand.", 10).await;
        wait_text(c, "#profile-list [data-name='by-hand'] .p-secret", "this session only", 10).await;
        wait_text(c, "#cloud-status", &format!("Connected: {user} in project admin"), 30).await;
        // Its upload default: raw disks go as qcow2 (the profile file keeps it).
        assert_eq!(
            js(c, "return document.querySelector(\"#detail-fields dd[data-key='ui.editor.convert']\")?.textContent").await,
            json!("yes")
        );
        // Restarting forgets it: the next window (by-hand is first in the list) asks for it.
        close_app(c.clone()).await;
        *c = connect(port, &caps).await;
        wait_present(c, "#secret-dialog[open]", 30).await;
        assert_eq!(js(c, "return document.querySelector('#cloud').value").await, json!("by-hand"));
        assert!(text(c, "#secret-text")
            .await
            .contains("Profile \"by-hand\" needs its password: no password is saved for it"));
        shot(c, "13-secret-prompt").await;
        // A typo first: Keystone refuses it, the prompt stays open and says so, nothing is kept.
        c.find(Locator::Css("#secret-form [name=secret]")).await.unwrap().send_keys("not-the-password").await.unwrap();
        c.find(Locator::Css("#secret-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#secret-error", "refused the credentials", 30).await;
        assert_eq!(js(c, "return document.querySelector('#secret-dialog').open").await, json!(true));
        assert!(keyring.get(Kind::Credential, "by-hand").unwrap().is_none(), "a refused password was kept");
        // Show password shows what was typed; then the right one.
        c.find(Locator::Css("#secret-form [name=show]")).await.unwrap().click().await.unwrap();
        assert_eq!(js(c, "return document.querySelector('#secret-form [name=secret]').type").await, json!("text"));
        js(c, "document.querySelector('#secret-form [name=secret]').value = ''; return 1").await;
        c.find(Locator::Css("#secret-form [name=secret]")).await.unwrap().send_keys(&password).await.unwrap();
        c.find(Locator::Css("#secret-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#cloud-status", &format!("Connected: {user} in project admin"), 30).await;
        assert_eq!(js(c, "return document.querySelector('#secret-dialog').open").await, json!(false));
    })
    .await;
    sc.run("the password is in no UI-visible state", async {
        // 14. The password is in no UI-visible state: not the page, not what the commands return,
        // not the profile file.
        let page = js(&c, "return document.documentElement.outerHTML + JSON.stringify([...document.querySelectorAll('input')].map((i) => i.value))").await;
        assert!(!page.as_str().unwrap().contains(&password), "the password is in the page");
        let listed = c
            .execute_async("const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('profiles_list').then((v) => done(JSON.stringify(v)), (e) => done(String(e)));", vec![])
            .await
            .unwrap();
        assert!(listed.as_str().unwrap().contains("by-hand") && !listed.as_str().unwrap().contains(&password), "{listed}");
        let file = std::fs::read_to_string(profiles.path().join("profiles.yaml")).unwrap();
        assert!(!file.contains(&password));
        // The dialog's "Remember" put it in the keyring (the real one, under tests/run).
        assert_eq!(
            keyring.get(Kind::Credential, "by-hand").unwrap().map(|s| s.expose().to_owned()),
            Some(password.clone())
        );
    })
    .await;
    sc.run("duplicate, edit, export, delete profiles", async {
        // 15. Duplicate (the secret is copied), edit (rename + region: the secret moves), delete
        // (after confirmation; the secret goes too).
        c.find(Locator::Css("#tab-profiles")).await.unwrap().click().await.unwrap();
        profile_action(&c, "by-hand", "duplicate").await;
        wait_text(&c, "#profile-list [data-name='by-hand-2'] .p-secret", "in the OS keyring", 10).await;
        // The copy is selected; the menu closed when its item was chosen.
        wait_text(&c, "#detail-name", "by-hand-2", 5).await;
        assert_eq!(js(&c, "return document.querySelector('#detail-menu').hidden").await, json!(true));
        profile_action(&c, "by-hand-2", "edit").await;
        wait_text(&c, "#editor-title", "Edit by-hand-2", 5).await;
        // Grouped: who signs in (the password beside the user), which project, which endpoint.
        assert_eq!(
            js(&c, "return [...document.querySelectorAll('#profile-editor fieldset, #profile-editor details')].map((g) => g.dataset.group + ':' + [...g.querySelectorAll('label:not([hidden]) [name]')].map((i) => i.name).join(','))").await,
            json!([
                "identity:name,auth_url,auth_type,username,user_id,user_domain_name,secret,ask_each_time",
                "scope:project_name,project_id,project_domain_name",
                "endpoint:region_name,interface,image_endpoint_override",
                "defaults:visibility,disk_format,convert",
                "advanced:verify,cacert,cert,key",
            ])
        );
        shot(&c, "22-profile-editor-groups").await;
        js(&c, "const f = document.querySelector('#profile-editor').elements; f.name.value = 'copy'; f.region_name.value = 'RegionOne'; return 1").await;
        c.find(Locator::Css("#profile-editor button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_present(&c, "#profile-list [data-name='copy']", 10).await;
        wait_text(&c, "#detail-fields [data-key='ui.pf.region_name']", "RegionOne", 10).await;
        wait_gone(&c, "#profile-list [data-name='by-hand-2']", 5).await;
        assert!(keyring.get(Kind::Credential, "by-hand-2").unwrap().is_none());
        assert_eq!(keyring.get(Kind::Credential, "copy").unwrap().map(|s| s.expose().to_owned()), Some(password.clone()));
        // Rename from the menu: a dialog; the secret moves with the name.
        profile_action(&c, "copy", "rename").await;
        wait_present(&c, "#rename-dialog[open]", 5).await;
        shot(&c, "23-profile-menu-rename").await;
        js(&c, "document.querySelector('#rename-form [name=name]').value = 'by-hand'; return 1").await;
        click(&c, "#rename-form button[type=submit]").await;
        wait_text(&c, "#rename-error", "there is already a profile 'by-hand'", 10).await;
        js(&c, "document.querySelector('#rename-form [name=name]').value = 'copy-2'; return 1").await;
        click(&c, "#rename-form button[type=submit]").await;
        wait_text(&c, "#profiles-status", "Renamed copy to copy-2.", 10).await;
        assert!(keyring.get(Kind::Credential, "copy").unwrap().is_none());
        assert_eq!(keyring.get(Kind::Credential, "copy-2").unwrap().map(|s| s.expose().to_owned()), Some(password.clone()));
        // Export: a clouds.yaml entry for other tools, without the secret.
        profile_action(&c, "copy-2", "export").await;
        wait_present(&c, "#export-dialog[open]", 5).await;
        let exported = text(&c, "#export-text").await;
        assert!(exported.starts_with("clouds:\n  copy-2:\n") && exported.contains("region_name: RegionOne"), "{exported}");
        assert!(!exported.contains(&password) && !exported.contains("password:"), "{exported}");
        c.find(Locator::Css("#export-close")).await.unwrap().click().await.unwrap();
        wait_gone(&c, "#export-dialog[open]", 5).await;
        profile_action(&c, "copy-2", "delete").await;
        wait_text(&c, "#confirm-text", "Delete profile \"copy-2\"", 5).await;
        c.find(Locator::Css("#confirm-yes")).await.unwrap().click().await.unwrap();
        wait_gone(&c, "#profile-list [data-name='copy-2']", 10).await;
        assert!(keyring.get(Kind::Credential, "copy-2").unwrap().is_none());
        assert!(keyring.get(Kind::Credential, "by-hand").unwrap().is_some(), "the original keeps its secret");
    })
    .await;
    sc.run("quitting with an upload running asks, then cleans up", async {
        // 15b. Ctrl+Q (as the close button) with an upload running asks first; "keep" keeps it
        // going; "cancel and quit" deletes the half-made image, then the app exits by itself.
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        let big_name = unique("e2e-quit");
        start_big_upload(&c, dir.path(), &big_name).await;
        let ctrl_q = "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'q', ctrlKey: true})); return 1";
        js(&c, ctrl_q).await;
        wait_present(&c, "#quit-dialog[open]", 10).await;
        assert!(text(&c, "#quit-text").await.starts_with("1 upload is running. Cancel it and quit?"));
        shot(&c, "15b-quit-asks").await;
        c.find(Locator::Css("#quit-no")).await.unwrap().click().await.unwrap();
        wait_gone(&c, "#quit-dialog[open]", 5).await;
        assert_eq!(js(&c, "return document.querySelector('.row').dataset.state").await, json!("running"));
        js(&c, ctrl_q).await;
        wait_present(&c, "#quit-dialog[open]", 10).await;
        c.find(Locator::Css("#quit-yes")).await.unwrap().click().await.unwrap();
        assert!(app_exited(60).await, "the app did not exit after cleaning up");
        assert!(images_named(&lab, &big_name).await.is_empty(), "the half-made image is left");
    })
    .await;
    close_app(c.clone()).await;
    // The saved password of by-hand (the last cloud) goes stale, as when it was changed
    // elsewhere; its kept token goes too, so the next window must log in with it.
    keyring.set(Kind::Credential, "by-hand", &stackdrop::openstack::Secret::new("changed-elsewhere".into())).unwrap();
    keyring.delete(Kind::Token, "by-hand").unwrap();
    c = connect(port, &caps).await;
    sc.run("a saved password Keystone refuses is fixed from the banner", async {
        // The header says not connected; the banner says Keystone's refusal and offers, first,
        // to re-enter the password; the prompt checks the new one before keeping it.
        wait_text(&c, "#banner-text", "refused the credentials", 30).await;
        assert_eq!(text(&c, "#cloud-status").await, "Not connected to by-hand");
        assert_eq!(text(&c, "#banner-actions button:first-child").await, "Re-enter the password");
        click(&c, "#banner-actions button:first-child").await;
        wait_present(&c, "#secret-dialog[open]", 10).await;
        c.find(Locator::Css("#secret-form [name=secret]")).await.unwrap().send_keys(&password).await.unwrap();
        c.find(Locator::Css("#secret-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(&c, "#cloud-status", &format!("Connected: {user} in project admin"), 30).await;
        assert!(text(&c, "#banner").await.is_empty(), "the banner is gone once connected");
        assert_eq!(
            keyring.get(Kind::Credential, "by-hand").unwrap().map(|s| s.expose().to_owned()),
            Some(password.clone())
        );
    })
    .await;
    sc.run("remembered cloud, language and size; Rust's messages in Korean", async {
        let c = &mut c;
        // 16. Remembered between runs: the last cloud, the language, the window's size.
        wait_text(c, "#cloud-status", &format!("Connected: {user} in project admin"), 30).await;
        assert_eq!(js(c, "return document.querySelector('#cloud').value").await, json!("by-hand"));
        js(
            c,
            "const s = document.querySelector('#lang'); s.value = 'ko'; s.dispatchEvent(new Event('change')); return 1",
        )
        .await;
        wait_text(c, "#tab-upload", "업로드", 10).await;
        wait_text(c, "#cloud-status", "연결됨:", 30).await;
        assert_eq!(text(c, "#dropzone strong").await, "디스크 이미지를 이 창 아무 곳에나 끌어다 놓으세요");
        c.set_window_size(1000, 700).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        shot(c, "14-korean").await;
        // Every screen in Korean too: the queue with its side panel, Preferences, Add from URL.
        drag_onto_app(&disk);
        wait_present(c, ".row", 15).await;
        wait_text(c, "#settings-title", "설정", 10).await;
        shot(c, "24-queue-ko").await;
        clear_queue(c).await;
        click(c, "#prefs-open").await;
        wait_present(c, "#prefs-dialog[open]", 5).await;
        shot(c, "25-prefs-ko").await;
        js(c, "document.querySelector('#prefs-dialog').close(); return 1").await;
        click(c, "#add-url").await;
        wait_present(c, "#url-dialog[open]", 5).await;
        shot(c, "26-url-ko").await;
        js(c, "document.querySelector('#url-dialog').close(); return 1").await;
        close_app(c.clone()).await;
        *c = connect(port, &caps).await;
        wait_text(c, "#tab-profiles", "프로필", 30).await;
        assert_eq!(js(c, "return document.documentElement.lang").await, json!("ko"));
        let (w, h) = c.get_window_size().await.unwrap();
        assert_eq!((w, h), (1000, 700), "the window came back at its size");
        // Rust's messages follow the page's language: a failing test connection, in Korean.
        c.find(Locator::Css("#tab-profiles")).await.unwrap().click().await.unwrap();
        profile_action(c, "lab-badpass", "test").await;
        wait_text(c, "#test-result", "자격 증명을 거부했습니다", 30).await;
        assert_eq!(text(c, "#test-steps li[data-step=identity] .title").await, "ID 서비스 탐색");
        shot(c, "27-profiles-ko").await;
        click(c, "#detail-edit").await;
        wait_present(c, "#profile-editor:not([hidden])", 5).await;
        shot(c, "28-editor-ko").await;
        click(c, "#editor-cancel").await;
        // The profile dialogs in Korean: the menu, Rename, Export, Delete's confirmation.
        click(c, "#detail-more").await;
        wait_present(c, "#detail-menu:not([hidden])", 5).await;
        shot(c, "29-menu-ko").await;
        click(c, "#detail-rename").await;
        wait_present(c, "#rename-dialog[open]", 5).await;
        shot(c, "30-rename-ko").await;
        click(c, "#rename-cancel").await;
        profile_action(c, "lab-badpass", "export").await;
        wait_present(c, "#export-dialog[open]", 5).await;
        shot(c, "31-export-ko").await;
        click(c, "#export-close").await;
        profile_action(c, "lab-badpass", "delete").await;
        wait_present(c, "#confirm[open]", 5).await;
        shot(c, "32-confirm-ko").await;
        click(c, "#confirm-no").await;
        wait_gone(c, "#confirm[open]", 5).await;
        assert_eq!(
            js(c, "return document.activeElement.id").await,
            json!("detail-more"),
            "focus back on the menu button"
        );
        // The Images tab and its drawer, in Korean.
        let ko_name = unique("e2e-ko");
        let f = support::lab::random_file(dir.path(), "ko.raw", 100_000);
        let spec = stackdrop::upload::ImageSpec {
            name: ko_name.clone(),
            disk_format: "raw".into(),
            container_format: "bare".into(),
            properties: vec![("os_distro".into(), "cirros".into())],
            ..Default::default()
        };
        let up = stackdrop::upload::create_and_upload(&s, &spec, &f, &Default::default()).await.unwrap();
        c.find(Locator::Css("#tab-images")).await.unwrap().click().await.unwrap();
        let row = format!("#images tr[data-id='{}'] .details", up.image.id());
        wait_present(c, &row, 20).await;
        c.find(Locator::Css(&row)).await.unwrap().click().await.unwrap();
        wait_text(c, "#d-groups .g-identity h4", "기본 정보", 10).await;
        shot(c, "18-images-ko").await;
        c.find(Locator::Css("#details-close")).await.unwrap().click().await.unwrap();
        s.images().delete(up.image.id()).await.unwrap();
    })
    .await;
    sc.run("SIGTERM during an upload cleans up, then exits", async {
        // 16b. A logout or a service manager's stop (SIGTERM): nothing is asked, nothing is left.
        c.find(Locator::Css("#tab-upload")).await.unwrap().click().await.unwrap();
        let big_name = unique("e2e-term");
        start_big_upload(&c, dir.path(), &big_name).await;
        let exact = format!("^{}$", env!("CARGO_BIN_EXE_stackdrop"));
        assert!(Command::new("pkill").args(["-TERM", "-f", &exact]).status().unwrap().success());
        assert!(app_exited(60).await, "the app did not exit after cleaning up");
        assert!(images_named(&lab, &big_name).await.is_empty(), "the half-made image is left");
    })
    .await;
    close_app(c).await;
    drop(driver);

    let nokr = tempfile::tempdir().unwrap();
    let _driver = driver_without_clouds(
        port,
        &dir.path().join("none.yaml"),
        nokr.path(),
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    let mut c = connect(port, &caps).await;
    sc.run("no keyring: said plainly, then this session only", async {
        let c = &mut c;
        // 17. No keyring reachable (no session bus): said plainly, nothing saved unless asked to go
        // without; then the secret serves this session only and is asked for after a restart.
        wait_text(c, "#cloud-status", "No cloud configured", 30).await;
        drag_onto_app(&lab.clouds);
        wait_text(c, "#import-offer [name=only]", "all 5 clouds", 15).await;
        js(c, "document.querySelector('#import-offer [name=only]').value = 'lab'; return 1").await;
        c.find(Locator::Css("#import-offer button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#import-problem", "no OS keyring is reachable", 15).await;
        assert!(text(c, "#import-problem").await.contains("nothing was saved"));
        assert!(!nokr.path().join("profiles.yaml").exists());
        wait_text(c, "#keyring-problem", "Secrets cannot be kept", 10).await;
        c.find(Locator::Css("#import-offer [name=ask_each_time]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#import-offer button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#profiles-status", "Imported lab.", 15).await;
        wait_text(c, "#profile-list [data-name='lab'] .p-secret", "this session only", 10).await;
        wait_text(c, "#cloud-status", "Connected: admin in project admin", 30).await;
        shot(c, "15-no-keyring").await;
        let file = std::fs::read_to_string(nokr.path().join("profiles.yaml")).unwrap();
        assert!(!file.contains("password:") && !file.contains(": secret"), "{file}");
        close_app(c.clone()).await;
        *c = connect(port, &caps).await;
        wait_present(c, "#secret-dialog[open]", 30).await;
        // In words; what D-Bus said only behind "Technical details".
        assert!(text(c, "#secret-text")
            .await
            .contains("no keyring service (such as GNOME Keyring or KWallet) answers"));
        assert!(!text(c, "#secret-text").await.contains("D-Bus"));
        assert_eq!(js(c, "return document.querySelector('#secret-detail').hidden").await, json!(false));
        assert!(!js(c, "return document.querySelector('#secret-detail code').textContent")
            .await
            .as_str()
            .unwrap()
            .is_empty());
        assert_eq!(
            js(c, "const r = document.querySelector('#secret-form [name=remember]'); return [r.checked, r.disabled]")
                .await,
            json!([false, true])
        );
        c.find(Locator::Css("#secret-form [name=secret]")).await.unwrap().send_keys("secret").await.unwrap();
        c.find(Locator::Css("#secret-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_text(c, "#cloud-status", "Connected: admin in project admin", 30).await;
    })
    .await;
    sc.run("accessibility: axe-core on every screen photographed, light and dark", async { audit_verdict() }).await;
    close_app(c).await;
    if std::env::var_os("STACKDROP_E2E_ONLY").is_none() {
        openstack(&lab, &["user", "delete", &user]);
    }
    sc.finish();
}

/// A real click on the element, scrolled into the middle of its scrolling box first (the
/// drawer scrolls on its own; WebKitWebDriver scrolls only the page).
/// Select profile `name` in the list, then press its detail's `action` (`test`, `edit`,
/// `connect`) or its More menu's (`duplicate`, `export`, `rename`, `delete`).
async fn profile_action(c: &Client, name: &str, action: &str) {
    let item = format!("#profile-list [data-name='{name}']");
    wait_present(c, &item, 10).await;
    click(c, &item).await;
    assert_eq!(text(c, "#detail-name").await, name);
    if matches!(action, "duplicate" | "export" | "rename" | "delete") {
        click(c, "#detail-more").await;
        wait_present(c, "#detail-menu:not([hidden])", 5).await;
    }
    click(c, &format!("#detail-{action}")).await;
}

async fn click(c: &Client, css: &str) {
    let found = js(
        c,
        &format!("const e = document.querySelector({css:?}); if (!e) return false; e.scrollIntoView({{block: 'center'}}); return true"),
    )
    .await;
    assert_eq!(found, json!(true), "no {css}");
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// The Images tab against the lab: three images of this test's own, found by search, narrowed
/// by a tag, sorted by size; one edited, shared with demo, downloaded through the native save
/// dialog (typed into by xdotool) and verified; then all three deleted at once.
async fn image_manager(c: &Client, lab: &support::lab::Lab, dir: &Path) {
    use stackdrop::upload::{create_and_upload, ImageSpec, UploadOptions};
    let s = session(lab, "lab");
    let prefix = unique("e2e-mgr");
    let mut ids = Vec::new();
    for (n, len, tags) in [("a", 3_000_000, vec!["keep", "big"]), ("b", 1_000, vec!["keep"]), ("c", 20_000, vec![])] {
        let f = support::lab::random_file(dir, &format!("{prefix}-{n}.raw"), len);
        let spec = ImageSpec {
            name: format!("{prefix}-{n}"),
            disk_format: "raw".into(),
            container_format: "bare".into(),
            visibility: Some("private".into()),
            tags: tags.into_iter().map(String::from).collect(),
            ..Default::default()
        };
        ids.push(create_and_upload(&s, &spec, &f, &UploadOptions::default()).await.unwrap().image.id().to_owned());
    }
    let rows = |c: &Client| {
        let c = c.clone();
        async move {
            js(&c, "return [...document.querySelectorAll('#images tbody tr')].map((r) => r.querySelector('.details').textContent)")
                .await
        }
    };
    click(c, "#tab-upload").await;
    click(c, "#tab-images").await;
    wait_present(c, &format!("#images tr[data-id='{}']", ids[2]), 20).await;
    // A drawer left open by an earlier part covers the right of the table: close it.
    if js(c, "return !document.querySelector('#details').hidden").await == json!(true) {
        click(c, "#details-close").await;
    }
    // Search by name, then the tag filter, then sort by size (twice: descending).
    js(c, &format!("const i = document.querySelector('#img-search'); i.value = '{prefix}'; i.dispatchEvent(new Event('input')); return 1")).await;
    let names = |v: &[&str]| json!(v.iter().map(|n| format!("{prefix}-{n}")).collect::<Vec<_>>());
    assert_eq!(rows(c).await.as_array().map(Vec::len), Some(3));
    click(c, "#images th[data-sort=name] button").await;
    assert_eq!(rows(c).await, names(&["a", "b", "c"]));
    js(
        c,
        "const s = document.querySelector('#img-tag'); s.value = 'keep'; s.dispatchEvent(new Event('input')); return 1",
    )
    .await;
    assert_eq!(rows(c).await, names(&["a", "b"]));
    click(c, "#images th[data-sort=size] button").await;
    assert_eq!(rows(c).await, names(&["b", "a"]));
    click(c, "#images th[data-sort=size] button").await;
    assert_eq!(rows(c).await, names(&["a", "b"]));
    assert_eq!(
        js(c, "return document.querySelector('#images th[data-sort=size]').getAttribute('aria-sort')").await,
        json!("descending")
    );
    shot(c, "16-image-list").await;
    js(c, "const s = document.querySelector('#img-tag'); s.value = ''; s.dispatchEvent(new Event('input')); return 1")
        .await;

    // The drawer: grouped, checksums with copy buttons, the owner's name.
    c.find(Locator::Css(&format!("#images tr[data-id='{}'] .details", ids[0]))).await.unwrap().click().await.unwrap();
    wait_text(c, "#details-title", &format!("{prefix}-a"), 10).await;
    let img = s.images().get(&ids[0]).await.unwrap();
    wait_text(c, "#d-groups .g-data", img.checksum.as_deref().unwrap(), 10).await;
    wait_text(c, "#d-groups .g-identity", "admin (", 10).await;
    assert_eq!(js(c, "return document.querySelectorAll('#d-groups .g-data .copy').length").await, json!(2));
    shot(c, "17-image-drawer").await;

    // Edit: name, min disk, protected, a tag removed, a property added; only that is sent.
    click(c, "#d-edit").await;
    js(c, &format!("const f = document.querySelector('#edit-form').elements; f.name.value = '{prefix}-a2'; f.min_disk.value = '2'; f.protected.checked = true; f.tags.value = 'keep'; f.visibility.value = 'shared'; return 1")).await;
    click(c, "#prop-add").await;
    js(c, "const r = [...document.querySelectorAll('#edit-form tbody tr')].pop(); r.querySelector('.prop-key').value = 'os_distro'; r.querySelector('.prop-value').value = 'cirros'; return 1").await;
    click(c, "#edit-form button[type=submit]").await;
    wait_text(c, "#d-status", "Saved.", 20).await;
    let img = s.images().get(&ids[0]).await.unwrap();
    assert_eq!((img.name(), img.min_disk, img.protected), (Some(format!("{prefix}-a2").as_str()), Some(2), Some(true)));
    assert_eq!((img.tags.clone(), img.other_str("os_distro")), (vec!["keep".to_string()], Some("cirros")));
    assert_eq!(img.visibility.as_deref(), Some("shared"));
    // Protected: the drawer's Delete is disabled, and says why.
    assert_eq!(js(c, "return document.querySelector('#d-delete').disabled").await, json!(true));

    // Share with demo (by name, within its domain); the member list shows the project's name.
    wait_present(c, "#share:not([hidden])", 10).await;
    js(c, "const f = document.querySelector('#share-form').elements; f.project.value = 'demo'; f.domain.value = 'Default'; return 1").await;
    click(c, "#share-form button").await;
    wait_text(c, "#members", "demo (", 20).await;
    let members = s.images().members(&ids[0]).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].status, "pending");

    // Download through the native save dialog; verified; byte-identical.
    let out = dir.join(format!("{prefix}-download.raw"));
    click(c, "#d-download").await;
    sh("timeout 20 xdotool search --sync --name '^Save image as$' >/dev/null && sleep 0.8");
    sh(&format!(
        "w=$(xdotool search --name '^Save image as$' | head -1); xdotool windowfocus --sync $w; xdotool key --window $w ctrl+a; xdotool type --window $w --delay 15 '{}'; sleep 0.3; xdotool key --window $w Return",
        out.display()
    ));
    wait_text(c, "#d-status", "Saved and verified", 60).await;
    let sent = std::fs::read(dir.join(format!("{prefix}-a.raw"))).unwrap();
    assert!(std::fs::read(&out).unwrap() == sent, "the download is the image");

    // Bulk: unprotect (bulk visibility on the way), select all three, delete at once.
    click(c, "#d-edit").await;
    js(c, "document.querySelector('#edit-form').elements.protected.checked = false; return 1").await;
    click(c, "#edit-form button[type=submit]").await;
    wait_text(c, "#d-status", "Saved.", 20).await;
    click(c, "#details-close").await;
    click(c, "#select-all").await;
    wait_text(c, "#bulk-count", "3 selected", 5).await;
    js(c, "document.querySelector('#bulk-visibility').value = 'community'; return 1").await;
    click(c, "#bulk-visibility-go").await;
    wait_text(c, "#images-status", "Visibility set to community.", 30).await;
    for id in &ids {
        assert_eq!(s.images().get(id).await.unwrap().visibility.as_deref(), Some("community"));
    }
    click(c, "#bulk-delete").await;
    wait_text(c, "#confirm-text", "Delete 3 images", 5).await;
    click(c, "#confirm-yes").await;
    wait_gone(c, &format!("#images tr[data-id='{}']", ids[1]), 30).await;
    assert!(images_named(lab, &prefix).await.is_empty(), "all three deleted");
    js(
        c,
        "const i = document.querySelector('#img-search'); i.value = ''; i.dispatchEvent(new Event('input')); return 1",
    )
    .await;
}

/// The window test's parts: each runs even when an earlier one failed, and a failure names
/// its part (one app start serves several parts, so a failure may make later ones fail too).
#[derive(Default)]
struct Scenarios {
    ran: usize,
    failed: Vec<String>,
}

impl Scenarios {
    async fn run(&mut self, name: &str, part: impl std::future::Future<Output = ()>) {
        use futures_util::FutureExt;
        self.ran += 1;
        // STACKDROP_E2E_ONLY=a|b runs only the scenarios whose names contain a or b (for
        // working on one; later scenarios may lean on earlier ones). tests/run never sets it.
        if let Ok(only) = std::env::var("STACKDROP_E2E_ONLY") {
            if !only.split('|').any(|o| name.contains(o)) {
                eprintln!("scenario {}: {name}: skipped (STACKDROP_E2E_ONLY)", self.ran);
                return;
            }
        }
        eprintln!("scenario {}: {name}", self.ran);
        if let Err(panic) = std::panic::AssertUnwindSafe(part).catch_unwind().await {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("scenario {} FAILED: {name}: {why}", self.ran);
            self.failed.push(format!("{}. {name}: {why}", self.ran));
        }
    }

    fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{} of {} scenarios failed:\n{}",
            self.failed.len(),
            self.ran,
            self.failed.join("\n")
        );
    }
}

/// tauri-driver for an app that finds no cloud (no clouds.yaml, no `OS_*`) and keeps its
/// profiles in `profiles`; `extra` adds environment variables.
fn driver_without_clouds(port: u16, no_clouds: &Path, profiles: &Path, extra: &[(&str, &str)]) -> Term {
    let mut cmd = Command::new("tauri-driver");
    cmd.args(["--port", &port.to_string()])
        .env("OS_CLIENT_CONFIG_FILE", no_clouds)
        .env("OS_CLIENT_SECURE_FILE", "/nonexistent")
        .env("STACKDROP_CONFIG_DIR", profiles)
        .env_remove("OS_CLOUD")
        .env_remove("OS_AUTH_URL")
        .env("GSETTINGS_BACKEND", "memory")
        .envs(extra.iter().copied());
    Term(cmd.spawn().expect("tauri-driver on PATH (cargo install tauri-driver)"))
}

/// Drop a big sparse file, start its upload and wait until bytes flow.
async fn start_big_upload(c: &Client, dir: &Path, name: &str) {
    clear_queue(c).await;
    let big = sparse_file(dir, &format!("{name}.raw"), 600 << 20);
    drag_onto_app(&big);
    wait_text(c, ".row .file-name", name, 15).await;
    // Every byte sent, even with a profile that sends raw disks as qcow2 (this one is all
    // holes: converted, it would be done at once).
    if js(c, "return document.querySelector('#settings [name=convert]').checked").await == json!(true) {
        click(c, "#settings [name=convert]").await;
    }
    click(c, "#upload-all").await;
    let end = Instant::now() + Duration::from_secs(30);
    while js(c, "return document.querySelector('.row progress').value").await.as_f64().unwrap_or(0.0) < 1.0 {
        assert!(Instant::now() < end, "the upload never progressed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until `css` matches exactly `n` elements.
async fn wait_for_count(c: &Client, css: &str, n: usize, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = js(c, &format!("return document.querySelectorAll({css:?}).length")).await;
        if got == json!(n) {
            return;
        }
        if Instant::now() >= end {
            let rows = js(c, "return [...document.querySelectorAll('.row')].map((r) => `${r.dataset.state}: ${r.textContent.replace(/\\s+/g, ' ')}`)").await;
            panic!("{css}: {got} of {n} after {secs} s; rows: {rows:#}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Empty the upload queue (no row may be running) and wait until it is.
async fn clear_queue(c: &Client) {
    js(c, "document.querySelectorAll('.row .remove').forEach((b) => b.click()); return 1").await;
    wait_gone(c, ".row", 10).await;
}

/// Type `value` into the queue's settings field `name` (for the selected rows), as a person
/// would: the field's own input/change events carry it to the rows.
async fn set_field(c: &Client, name: &str, value: &str) {
    let script = "const e = document.querySelector(`#settings [name=${arguments[0]}]`); e.value = arguments[1]; \
                  e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return 1";
    c.execute(script, vec![json!(name), json!(value)]).await.unwrap();
}

/// Has the app's process ended (within `secs`)?
async fn app_exited(secs: u64) -> bool {
    let exact = format!("^{}$", env!("CARGO_BIN_EXE_stackdrop"));
    for _ in 0..secs * 10 {
        let alive = Command::new("pgrep").args(["-f", &exact]).output().map(|o| !o.stdout.is_empty()).unwrap_or(false);
        if !alive {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// End the WebDriver session and the app it started: tauri-driver leaves the app running when a
/// session is deleted, and a leftover window would take the next drop. (The app may have
/// ended already: then there is no session to end.)
async fn close_app(c: Client) {
    let _ = c.close().await;
    let exact = format!("^{}$", env!("CARGO_BIN_EXE_stackdrop"));
    let _ = Command::new("pkill").args(["-f", &exact]).status();
    for _ in 0..50 {
        let alive = Command::new("pgrep").args(["-f", &exact]).output().map(|o| !o.stdout.is_empty()).unwrap_or(false);
        if !alive {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(port: u16, caps: &serde_json::Map<String, serde_json::Value>) -> Client {
    for _ in 0..50 {
        if let Ok(c) = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("cannot connect to tauri-driver on port {port}");
}

/// The scenario runner itself: a failing part is named and the parts after it still run.
#[tokio::test]
async fn a_failing_scenario_is_named_and_the_rest_still_run() {
    let mut sc = Scenarios::default();
    let mut after = false;
    sc.run("breaks", async { panic!("on purpose") }).await;
    sc.run("runs anyway", async { after = true }).await;
    assert!(after);
    assert_eq!(sc.failed, ["1. breaks: on purpose"]);
    let all = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sc.finish())).unwrap_err();
    assert!(all.downcast_ref::<String>().unwrap().starts_with("1 of 2 scenarios failed:\n1. breaks"));
}
