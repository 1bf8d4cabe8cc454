//! Image management against the lab's real Glance: `image set|unset|list|show|save|stage|
//! import`, sharing (`image add|remove project`, `image member list|get`, a member accepting),
//! `image stores list`, `image task list|show` and `token issue` — each outcome checked in
//! Glance through the real openstackclient (`openstack image show`), and the downloads checked
//! byte for byte, through a proxy that cuts or corrupts them.

mod support;

use serde_json::Value;
use support::lab::{lab, openstack, random_file, stackdrop, stderr, stdout, unique, Lab, Layout};
use support::proxy::{rule, Fault, Proxy};

const IGNORE: &str = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored";

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "stackdrop failed: {}", stderr(o));
    stdout(o)
}

fn fails(o: &std::process::Output) -> String {
    assert!(!o.status.success(), "stackdrop should have failed; stdout: {}", stdout(o));
    stderr(o)
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// `stackdrop --os-cloud lab ARGS…`
fn sd(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--os-cloud", "lab"];
    all.extend(args);
    stackdrop(lab, &all)
}

/// What the real openstackclient sees of an image.
fn os_show(lab: &Lab, id: &str) -> Value {
    json(&openstack(lab, &["image", "show", id, "-f", "json"]))
}

/// An active raw image of `len` bytes, made by Stackdrop; its id.
fn upload(lab: &Lab, dir: &std::path::Path, name: &str, len: usize) -> String {
    let f = random_file(dir, &format!("{name}.raw"), len);
    let out =
        ok(&sd(lab, &["image", "create", "--disk-format", "raw", "--file", f.to_str().unwrap(), "-f", "json", name]));
    json(&out)["id"].as_str().unwrap().to_owned()
}

fn cleanup(lab: &Lab, ids: &[&str]) {
    for id in ids {
        let _ = sd(lab, &["image", "set", "--unprotected", id]);
        let _ = sd(lab, &["image", "delete", id]);
    }
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn set_unset_show_and_list_as_openstackclient_sees_them() {
    let _ = IGNORE;
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("set");
    let id = upload(&lab, dir.path(), &name, 3_000_000);

    ok(&sd(
        &lab,
        &[
            "image",
            "set",
            &name,
            "--name",
            &format!("{name}-b"),
            "--min-disk",
            "2",
            "--min-ram",
            "256",
            "--protected",
            "--community",
            "--property",
            "hw_disk_bus=scsi",
            "--os-distro",
            "cirros",
            "--os-version",
            "0.6",
            "--architecture",
            "x86_64",
            "--tag",
            "t1",
            "--tag",
            "t2",
        ],
    ));
    let seen = os_show(&lab, &id);
    assert_eq!(seen["name"], format!("{name}-b"));
    assert_eq!((seen["min_disk"].as_u64(), seen["min_ram"].as_u64()), (Some(2), Some(256)));
    assert_eq!((seen["protected"].as_bool(), seen["visibility"].as_str()), (Some(true), Some("community")));
    let p = &seen["properties"];
    assert_eq!((p["hw_disk_bus"].as_str(), p["os_distro"].as_str()), (Some("scsi"), Some("cirros")));
    assert_eq!((p["os_version"].as_str(), p["architecture"].as_str()), (Some("0.6"), Some("x86_64")));
    let mut tags: Vec<&str> = seen["tags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    tags.sort();
    assert_eq!(tags, ["t1", "t2"]);
    let name = format!("{name}-b");

    // A format change on an image with data is refused before Glance is asked; so is a key to
    // unset that is not there, and then nothing is changed.
    let e = fails(&sd(&lab, &["image", "set", &id, "--disk-format", "qcow2"]));
    assert!(e.contains("only a queued image"), "{e}");
    let e = fails(&sd(&lab, &["image", "unset", &id, "--tag", "t1", "--property", "nope"]));
    assert!(e.contains("has no property 'nope'"), "{e}");
    assert_eq!(os_show(&lab, &id)["tags"].as_array().unwrap().len(), 2);
    ok(&sd(&lab, &["image", "unset", &id, "--tag", "t1", "--property", "hw_disk_bus"]));
    let seen = os_show(&lab, &id);
    assert_eq!(seen["tags"], serde_json::json!(["t2"]));
    assert!(seen["properties"].get("hw_disk_bus").is_none());

    // hidden / unhidden, and list's --hidden.
    ok(&sd(&lab, &["image", "set", &id, "--hidden"]));
    assert_eq!(os_show(&lab, &id)["properties"]["os_hidden"], true);
    let listed = json(&ok(&sd(&lab, &["image", "list", "--name", &name, "--community", "-f", "json"])));
    assert_eq!(listed.as_array().unwrap().len(), 0, "a hidden image is not listed");
    let listed = json(&ok(&sd(&lab, &["image", "list", "--name", &name, "--hidden", "--community", "-f", "json"])));
    assert_eq!(listed[0]["ID"], id.as_str());
    ok(&sd(&lab, &["image", "set", &id, "--unhidden"]));

    // show: openstackclient's shape, --human-readable sizes, -c.
    let mine = json(&ok(&sd(&lab, &["image", "show", &id, "-f", "json"])));
    let theirs = os_show(&lab, &id);
    assert_eq!(keys(&mine), keys(&theirs));
    assert_eq!(mine, theirs);
    let size = ok(&sd(&lab, &["image", "show", &id, "--human-readable", "-f", "value", "-c", "size"]));
    assert_eq!(size, "3M\n");

    // list: filters, --long columns, sort, limit.
    let second = upload(&lab, dir.path(), &format!("{name}-c"), 1000);
    ok(&sd(&lab, &["image", "set", &second, "--tag", "t2", "--property", "os_distro=cirros", "--community"]));
    let long = json(&ok(&sd(&lab, &["image", "list", "--long", "--tag", "t2", "--community", "-f", "json"])));
    let want_cols = [
        "ID",
        "Name",
        "Disk Format",
        "Container Format",
        "Size",
        "Checksum",
        "Status",
        "Visibility",
        "Protected",
        "Project",
        "Hash Algorithm",
        "Hash Value",
        "Tags",
    ];
    assert_eq!(long[0].as_object().unwrap().keys().cloned().collect::<Vec<_>>().len(), want_cols.len());
    for c in want_cols {
        assert!(long[0].get(c).is_some(), "--long has {c}");
    }
    let names: Vec<&str> = long.as_array().unwrap().iter().filter_map(|r| r["Name"].as_str()).collect();
    assert_eq!(names, [name.as_str(), &format!("{name}-c")], "sorted by name, both tagged t2");
    let desc = json(&ok(&sd(
        &lab,
        &["image", "list", "--tag", "t2", "--community", "--sort", "size:desc", "-f", "json", "-c", "Name"],
    )));
    assert_eq!(desc[0]["Name"], name.as_str(), "3000000 sorts after 1000 as text, descending first");
    let prop = json(&ok(&sd(
        &lab,
        &["image", "list", "--community", "--property", "os_distro=cirros", "--tag", "t2", "-f", "json"],
    )));
    assert_eq!(prop.as_array().unwrap().len(), 2);
    let one = json(&ok(&sd(&lab, &["image", "list", "--community", "--tag", "t2", "--limit", "1", "-f", "json"])));
    assert_eq!(one.as_array().unwrap().len(), 1);
    let theirs = json(&openstack(&lab, &["image", "list", "--community", "--tag", "t2", "--long", "-f", "json"]));
    assert_eq!(long, theirs, "the same rows as openstackclient's");

    let e = fails(&sd(&lab, &["image", "delete", &id]));
    assert!(e.contains("403") || e.to_lowercase().contains("protected"), "{e}");
    cleanup(&lab, &[&id, &second]);
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn sharing_with_a_project_and_the_member_accepting() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("share");
    let id = upload(&lab, dir.path(), &name, 1000);

    // A private image cannot have members: said so, not just Glance's 403.
    ok(&sd(&lab, &["image", "set", &id, "--private"]));
    for args in [&["image", "add", "project", &id, "demo"][..], &["image", "member", "list", &id]] {
        let e = fails(&sd(&lab, args));
        assert!(e.contains("is 'private': only a shared image has members"), "{e}");
    }

    ok(&sd(&lab, &["image", "set", &id, "--shared"]));
    let added = json(&ok(&sd(&lab, &["image", "add", "project", &name, "demo", "-f", "json"])));
    let demo = added["member_id"].as_str().unwrap().to_owned();
    assert_eq!(added["status"], "pending");
    let theirs = json(&openstack(&lab, &["image", "member", "list", &id, "-f", "json"]));
    let mine = json(&ok(&sd(&lab, &["image", "member", "list", &id, "-f", "json"])));
    assert_eq!(mine, theirs);
    let got = json(&ok(&sd(&lab, &["image", "member", "get", &id, "demo", "-f", "json"])));
    assert_eq!(keys(&got), keys(&added));

    // The member project accepts it and then lists it.
    let demo_sd = |args: &[&str]| {
        let mut all = vec!["--os-cloud", "lab-demo"];
        all.extend(args);
        stackdrop(&lab, &all)
    };
    ok(&demo_sd(&["image", "set", &id, "--accept"]));
    let got = json(&ok(&sd(&lab, &["image", "member", "get", &id, &demo, "-f", "json"])));
    assert_eq!(got["status"], "accepted");
    let listed = json(&ok(&demo_sd(&["image", "list", "--member-status", "accepted", "--shared", "-f", "json"])));
    assert!(listed.as_array().unwrap().iter().any(|r| r["ID"] == id.as_str()), "{listed}");

    ok(&sd(&lab, &["image", "remove", "project", &id, &demo]));
    assert_eq!(json(&ok(&sd(&lab, &["image", "member", "list", &id, "-f", "json"]))), serde_json::json!([]));
    cleanup(&lab, &[&id]);
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn deactivate_and_reactivate() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let id = upload(&lab, dir.path(), &unique("deact"), 1000);
    ok(&sd(&lab, &["image", "set", &id, "--deactivate"]));
    assert_eq!(os_show(&lab, &id)["status"], "deactivated");
    let e = fails(&sd(&lab, &["image", "save", &id, "--file", dir.path().join("x").to_str().unwrap()]));
    assert!(e.contains("'deactivated'"), "{e}");
    ok(&sd(&lab, &["image", "set", &id, "--activate", "--name", "renamed-after-activate"]));
    let seen = os_show(&lab, &id);
    assert_eq!((seen["status"].as_str(), seen["name"].as_str()), (Some("active"), Some("renamed-after-activate")));
    cleanup(&lab, &[&id]);
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn save_verifies_resumes_and_refuses_corruption() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("save");
    let mine = upload(&lab, dir.path(), &name, 5_000_000);
    let mine_data = std::fs::read(dir.path().join(format!("{name}.raw"))).unwrap();
    // One made by openstackclient.
    let f = random_file(dir.path(), "osc.raw", 2_000_000);
    let theirs_name = unique("save-osc");
    let made = json(&openstack(
        &lab,
        &["image", "create", "--disk-format", "raw", "--file", f.to_str().unwrap(), "-f", "json", &theirs_name],
    ));
    let theirs = made["id"].as_str().unwrap().to_owned();
    let theirs_data = std::fs::read(&f).unwrap();

    for (id, data) in [(&mine, &mine_data), (&theirs, &theirs_data)] {
        let out = dir.path().join(format!("{id}.out"));
        ok(&sd(&lab, &["image", "save", id, "--file", out.to_str().unwrap()]));
        assert!(std::fs::read(&out).unwrap() == *data, "byte-identical");
        // To stdout too.
        let o = sd(&lab, &["image", "save", id]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(o.stdout == *data);
    }

    // Through a proxy that cuts the answer midway: the rest is asked for with Range.
    let via = |proxy: &Proxy, args: &[&str]| {
        let mut all = vec!["--os-cloud", "lab", "--os-image-endpoint-override", &proxy.url];
        all.extend(args);
        stackdrop(&lab, &all)
    };
    let cut = Proxy::start(&lab.glance, vec![rule("GET", "/file", Fault::CutAnswerAfter(1_500_000), 1)]);
    let out = dir.path().join("cut.out");
    let o = via(&cut, &["image", "save", &mine, "--file", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap() == mine_data);
    let log = cut.log().join("\n");
    assert_eq!(cut.log().iter().filter(|l| l.starts_with("GET") && l.contains("/file")).count(), 2, "{log}");
    assert!(stderr(&o).contains("resumed"), "{}", stderr(&o));

    // A corrupted answer: refused, nothing left (no file, no .part).
    let bad = Proxy::start(&lab.glance, vec![rule("GET", "/file", Fault::FlipAnswerByte(100_000), 1)]);
    let out = dir.path().join("bad.out");
    let e = fails(&via(&bad, &["image", "save", &mine, "--file", out.to_str().unwrap()]));
    assert!(e.contains("does not match what Glance recorded"), "{e}");
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // An interrupted earlier run's .part file (the first 2 MB) is resumed, and the whole file
    // verified: here the part is right, so the result is the image.
    let out = dir.path().join("resume.out");
    let part = stackdrop::download::part_path(&out, &mine);
    std::fs::write(&part, &mine_data[..2_000_000]).unwrap();
    let watch = Proxy::start(&lab.glance, vec![]);
    let o = via(&watch, &["image", "save", &mine, "--file", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap() == mine_data);
    assert!(!part.exists());
    assert!(stderr(&o).contains("resumed"), "{}", stderr(&o));
    // A wrong part: the whole is checked, the mismatch caught, the part removed.
    let mut wrong = mine_data[..2_000_000].to_vec();
    wrong[10] ^= 0xff;
    std::fs::write(&part, &wrong).unwrap();
    let out2 = dir.path().join("resume2.out");
    let part2 = stackdrop::download::part_path(&out2, &mine);
    std::fs::rename(&part, &part2).unwrap();
    let e = fails(&sd(&lab, &["image", "save", &mine, "--file", out2.to_str().unwrap()]));
    assert!(e.contains("does not match"), "{e}");
    assert!(!part2.exists() && !out2.exists());

    cleanup(&lab, &[&mine, &theirs]);
}

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn stage_import_stores_tasks_and_token() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("stage");
    let made = json(&ok(&sd(&lab, &["image", "create", "--disk-format", "raw", "-f", "json", &name])));
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["status"], "queued");
    let e = fails(&sd(&lab, &["image", "import", &id, "--method", "glance-direct"]));
    assert!(e.contains("status 'uploading'"), "{e}");
    let f = random_file(dir.path(), "s.raw", 1_000_000);
    ok(&sd(&lab, &["image", "stage", &id, "--file", f.to_str().unwrap()]));
    assert_eq!(os_show(&lab, &id)["status"], "uploading");
    let shown = json(&ok(&sd(&lab, &["image", "import", &id, "--method", "glance-direct", "--wait", "-f", "json"])));
    assert_eq!(shown["status"], "active");
    let seen = os_show(&lab, &id);
    assert_eq!(seen["size"], 1_000_000);

    // copy-image needs stores; an unknown one is refused before asking Glance.
    let e = fails(&sd(&lab, &["image", "import", &id, "--method", "copy-image"]));
    assert!(e.contains("'--store' or '--all-stores'"), "{e}");
    let e = fails(&sd(&lab, &["image", "import", &id, "--method", "copy-image", "--store", "nope"]));
    assert!(e.contains("unknown store nope"), "{e}");

    // stores, as openstackclient lists them.
    let mine = json(&ok(&sd(&lab, &["image", "stores", "list", "-f", "json"])));
    let theirs = json(&openstack(&lab, &["image", "stores", "list", "-f", "json"]));
    assert_eq!(mine, theirs);

    // tasks: the import above made one.
    let mine = json(&ok(&sd(&lab, &["image", "task", "list", "-f", "json"])));
    let theirs = json(&openstack(&lab, &["image", "task", "list", "-f", "json"]));
    assert_eq!(mine, theirs);
    let task = mine[0]["ID"].as_str().unwrap();
    let mine = json(&ok(&sd(&lab, &["image", "task", "show", task, "-f", "json"])));
    let theirs = json(&openstack(&lab, &["image", "task", "show", task, "-f", "json"]));
    assert_eq!(mine, theirs);

    // token issue: openstackclient's fields; a wrong password shows here.
    let mine = json(&ok(&sd(&lab, &["token", "issue", "-f", "json"])));
    let theirs = json(&openstack(&lab, &["token", "issue", "-f", "json"]));
    assert_eq!(keys(&mine), keys(&theirs));
    assert_eq!((&mine["project_id"], &mine["user_id"]), (&theirs["project_id"], &theirs["user_id"]));
    let e = fails(&stackdrop(&lab, &["--os-cloud", "lab-badpass", "token", "issue"]));
    assert!(e.contains("password"), "{e}");
    cleanup(&lab, &[&id]);
}
