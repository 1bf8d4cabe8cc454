//! Drop-in compatibility: the same `openstack …` command lines run twice against the lab, once
//! with the real openstackclient (10.5, from the lab's venv) and once with `stackdrop` in its
//! place; the JSON outputs must be equal (same keys, same values; a token's id and expiry
//! aside, which differ by nature).

mod support;

use serde_json::Value;
use support::lab::{lab, openstack, qcow2, random_file, stackdrop, stderr, stdout, unique, Layout};

#[test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
fn openstack_image_command_lines_give_the_same_json_with_stackdrop() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let a = unique("compat-a");
    let b = unique("compat-b");
    let tag = unique("tag");
    let fa = random_file(dir.path(), "a.raw", 1_234_567);
    let fb = qcow2(dir.path(), "b", 1);
    // Made and changed by openstackclient, so that nothing here depends on Stackdrop's writing.
    let id_a = openstack(
        &lab,
        &[
            "image",
            "create",
            "--disk-format",
            "raw",
            "--file",
            fa.to_str().unwrap(),
            "--property",
            "os_distro=cirros",
            "--tag",
            &tag,
            "--tag",
            "x",
            "--min-ram",
            "64",
            "--shared",
            "-f",
            "value",
            "-c",
            "id",
            &a,
        ],
    )
    .trim()
    .to_owned();
    let id_b = openstack(
        &lab,
        &[
            "image",
            "create",
            "--disk-format",
            "qcow2",
            "--container-format",
            "bare",
            "--file",
            fb.to_str().unwrap(),
            "--tag",
            &tag,
            "--private",
            "-f",
            "value",
            "-c",
            "id",
            &b,
        ],
    )
    .trim()
    .to_owned();
    openstack(&lab, &["image", "add", "project", &id_a, "demo"]);

    let lines: Vec<Vec<&str>> = vec![
        vec!["image", "show", &a],
        vec!["image", "show", &id_b],
        vec!["image", "show", &a, "--human-readable"],
        vec!["image", "show", &a, "-c", "name", "-c", "size", "-c", "properties"],
        vec!["image", "list", "--name", &a],
        vec!["image", "list", "--name", &a, "--long"],
        vec!["image", "list", "--tag", &tag, "--long"],
        vec!["image", "list", "--tag", &tag, "--sort", "name:desc"],
        vec!["image", "list", "--tag", &tag, "--tag", "x"],
        vec!["image", "list", "--tag", &tag, "--private"],
        vec!["image", "list", "--tag", &tag, "--shared", "--long"],
        vec!["image", "list", "--tag", &tag, "--property", "os_distro=cirros"],
        vec!["image", "list", "--tag", &tag, "--sort", "size:asc,name", "-c", "Name"],
        vec!["image", "list", "--tag", &tag, "--status", "active", "--limit", "1", "--sort", "name"],
        vec!["image", "member", "list", &a],
        vec!["image", "stores", "list"],
        vec!["token", "issue"],
    ];
    // Each line's two runs, four lines at a time (openstackclient takes seconds to start).
    let compare = |line: &Vec<&str>| -> Option<String> {
        let mut args = line.clone();
        args.extend(["-f", "json"]);
        let theirs = json(&openstack(&lab, &args));
        let mut with = vec!["--os-cloud", "lab"];
        with.extend(&args);
        let o = stackdrop(&lab, &with);
        assert!(o.status.success(), "stackdrop {}: {}", line.join(" "), stderr(&o));
        let mine = json(&stdout(&o));
        let (mine, theirs) = if line[0] == "token" { (masked(mine), masked(theirs)) } else { (mine, theirs) };
        (mine != theirs).then(|| format!("{}\n  openstack: {theirs}\n  stackdrop: {mine}", line.join(" ")))
    };
    let mut differ = Vec::new();
    for chunk in lines.chunks(4) {
        std::thread::scope(|sc| {
            let runs: Vec<_> = chunk.iter().map(|line| sc.spawn(|| compare(line))).collect();
            differ.extend(runs.into_iter().filter_map(|r| r.join().unwrap_or_else(|e| std::panic::resume_unwind(e))));
        });
    }
    for id in [&id_a, &id_b] {
        let _ = stackdrop(&lab, &["--os-cloud", "lab", "image", "delete", id]);
    }
    assert!(differ.is_empty(), "{} of {} command lines differ:\n{}", differ.len(), lines.len(), differ.join("\n"));
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// A token's id and expiry differ between two issues; the rest must not.
fn masked(mut v: Value) -> Value {
    for k in ["id", "expires"] {
        if let Some(x) = v.get_mut(k) {
            assert!(x.as_str().is_some_and(|s| !s.is_empty()), "{k}");
            *x = Value::String("…".into());
        }
    }
    v
}
