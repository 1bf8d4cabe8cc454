//! Integration tests against the real Keystone 30 + Glance 33 lab (tests/lab/start), in the
//! plain layout and the devstack-prefix layout (/identity, /image; image_size_cap 48 MiB).
//! Each test names its images uniquely and checks that nothing of its own is left behind.

mod support;

use md5::Digest;
use serde_json::Value;
use stackdrop::upload::Error;
use stackdrop::upload::{create_and_upload, ImageSpec, UploadOptions};
use support::lab::{
    command, images_named, lab, qcow2, random_file, session, sparse_file, stackdrop, stderr, stdout, unique, Layout,
};

fn hex(d: impl std::fmt::LowerHex) -> String {
    format!("{d:x}")
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn cli_create_list_show_delete_like_openstackclient() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let file = qcow2(dir.path(), "disk", 6);
    let data = std::fs::read(&file).unwrap();
    let name = unique("cli");

    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "image",
            "create",
            "--disk-format",
            "qcow2",
            "--file",
            file.to_str().unwrap(),
            "--public",
            "--property",
            "os_distro=cirros",
            "--tag",
            "stackdrop",
            "--min-disk",
            "1",
            "-f",
            "json",
            &name,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let img: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(img["status"], "active");
    assert_eq!(img["name"], name.as_str());
    assert_eq!(img["visibility"], "public");
    assert_eq!(img["disk_format"], "qcow2");
    assert_eq!(img["container_format"], "bare");
    assert_eq!(img["min_disk"], 1);
    assert_eq!(img["tags"], serde_json::json!(["stackdrop"]));
    assert_eq!(img["size"], data.len());
    assert_eq!(img["checksum"], hex(md5::Md5::digest(&data)));
    assert_eq!(img["virtual_size"], 6 << 20, "Glance inspected the qcow2");
    let props = &img["properties"];
    assert_eq!(props["os_distro"], "cirros");
    assert_eq!(props["os_hash_algo"], "sha512");
    assert_eq!(props["os_hash_value"], hex(sha2::Sha512::digest(&data)));
    assert_eq!(props["owner_specified.openstack.md5"], hex(md5::Md5::digest(&data)));
    assert_eq!(props["owner_specified.openstack.sha256"], hex(sha2::Sha256::digest(&data)));
    assert_eq!(props["owner_specified.openstack.object"], format!("images/{name}"));
    let id = img["id"].as_str().unwrap().to_owned();

    let o = stackdrop(&lab, &["--os-cloud", "lab", "image", "list", "-f", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["ID"] == id.as_str() && i["Name"] == name.as_str() && i["Status"] == "active"));

    let o = stackdrop(&lab, &["--os-cloud", "lab", "image", "show", &name, "-f", "value", "-c", "status", "-c", "id"]);
    assert_eq!(stdout(&o), format!("{id}\nactive\n"), "{}", stderr(&o));

    let o = stackdrop(&lab, &["--os-cloud", "lab", "image", "delete", &name]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = stackdrop(&lab, &["--os-cloud", "lab", "image", "show", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), format!("stackdrop: no image with the id or name '{id}'\n"));
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn the_devstack_prefix_layout_and_a_cached_second_upload() {
    let lab = lab(Layout::Devstack);
    assert!(lab.glance.ends_with("/image") && lab.keystone.ends_with("/identity"));
    let dir = tempfile::tempdir().unwrap();
    let file = qcow2(dir.path(), "disk", 2);
    let s = session(&lab, "lab");
    let name = unique("prefix");
    let spec = ImageSpec {
        name: name.clone(),
        disk_format: "qcow2".into(),
        container_format: "bare".into(),
        ..Default::default()
    };
    let first = create_and_upload(&s, &spec, &file, &UploadOptions::default()).await.unwrap();
    assert_eq!(first.image.status(), "active");
    assert_eq!(first.verified_os_hash.as_deref(), Some("sha512"));
    assert_eq!(s.image_service().await.unwrap().root.as_str(), lab.glance);
    assert_eq!(s.identity_url().await.unwrap().as_str(), format!("{}/v3/", lab.keystone));
    let token = s.token().await.unwrap();
    let second = create_and_upload(&s, &spec, &file, &UploadOptions::default()).await.unwrap();
    // The same token served both uploads.
    assert_eq!(s.token().await.unwrap().value, token.value);
    for img in [first.image, second.image] {
        s.images().delete(img.id()).await.unwrap();
    }
    assert!(images_named(&lab, &name).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn other_auth_methods_and_scopes() {
    let lab = lab(Layout::Plain);
    // Application credential (unscoped request; the credential carries its project).
    let o = stackdrop(&lab, &["--os-cloud", "lab-appcred", "image", "list", "-f", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Token method, scoped by project id.
    let s = session(&lab, "lab");
    let token = s.token().await.unwrap();
    let project_id = token.project_id.clone().unwrap();
    let auth_url = format!("{}/v3", lab.keystone);
    let o = stackdrop(
        &lab,
        &[
            "--os-auth-url",
            &auth_url,
            "--os-auth-type",
            "token",
            "--os-token",
            token.value.expose(),
            "--os-project-id",
            &project_id,
            "image",
            "list",
            "-f",
            "value",
            "-c",
            "ID",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // An image endpoint override skips the catalog (here: a catalog-less bogus interface).
    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "--os-interface",
            "admin",
            "--os-region-name",
            "Nowhere",
            "--os-image-endpoint-override",
            &lab.glance,
            "image",
            "list",
            "-f",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Password with the user and the project by id, from OS_* variables alone.
    let o = command(&lab, &["image", "list", "-f", "json"])
        .env("OS_AUTH_URL", &lab.keystone)
        .env("OS_USER_ID", token.user_id.as_deref().unwrap())
        .env("OS_PASSWORD", "secret")
        .env("OS_PROJECT_ID", &project_id)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Runs `stackdrop image create` expecting failure; returns its stderr and checks that it is one
/// line, exit code 1, no secret in it, and no image of that name left in the lab.
async fn fails(lab: &support::lab::Lab, cloud: &str, extra: &[&str], file: &str, name: &str) -> String {
    let mut args = vec!["--os-cloud", cloud, "image", "create", "--file", file];
    args.extend_from_slice(extra);
    args.push(name);
    let o = stackdrop(lab, &args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("secret"), "{err}");
    assert!(images_named(lab, name).await.is_empty(), "{name} left behind");
    err
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn every_error_is_one_clear_line_and_leaves_nothing() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let small = qcow2(dir.path(), "small", 1);
    let small = small.to_str().unwrap();
    let raw = random_file(dir.path(), "random.raw", 1 << 20);
    let raw = raw.to_str().unwrap();
    let name = unique("err");

    let e = fails(&lab, "lab-badpass", &[], small, &name).await;
    assert!(e.contains("refused the credentials: wrong user name, password or user domain"), "{e}");
    let e = fails(&lab, "lab-noproject", &[], small, &name).await;
    assert!(e.contains("project 'no-such-project' (domain 'Default') does not exist"), "{e}");
    let e = fails(&lab, "lab", &["--os-auth-url", "http://127.0.0.1:1/v3"], small, &name).await;
    assert!(e.contains("cannot reach http://127.0.0.1:1/v3/auth/tokens"), "{e}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = fails(&lab, "lab", &[], empty.to_str().unwrap(), &name).await;
    assert!(e.contains("the directory holds no disk images"), "{e}");
    let e = fails(&lab, "lab", &[], "/nonexistent/disk.qcow2", &name).await;
    assert_eq!(e, "stackdrop: cannot use /nonexistent/disk.qcow2: no such file\n");
    let e = fails(&lab, "lab", &["--disk-format", "qcow3"], small, &name).await;
    assert!(
        e.contains("disk_format 'qcow3' is not allowed; Glance accepts: ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2"),
        "{e}"
    );
    let e = fails(&lab, "lab", &["--os-interface", "admin", "--os-region-name", "Nowhere"], small, &name).await;
    assert!(e.contains("no 'image' endpoint for interface admin in region Nowhere"), "{e}");
    // A member may not publish: Glance's 403, in its words.
    let e = fails(&lab, "lab-demo", &["--public"], small, &name).await;
    assert!(e.contains("Glance forbids this (403 on POST"), "{e}");
    // Raw bytes declared qcow2: stopped before anything is created (Glance would say 415 later).
    let e = fails(&lab, "lab", &["--disk-format", "qcow2"], raw, &name).await;
    assert_eq!(e, format!("stackdrop: {raw} was not uploaded: the file holds raw data, not qcow2 (Glance would answer 415 after the upload; use --disk-format raw)\n"));
    // qcow2 declared raw: refused unless --force (Glance accepts raw for anything).
    let e = fails(&lab, "lab", &["--disk-format", "raw"], small, &name).await;
    assert!(e.contains("holds qcow2 data, not raw") && e.contains("--force"), "{e}");
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn project_by_name_sets_the_owner() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let file = qcow2(dir.path(), "d", 1);
    let name = unique("owner");
    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "image",
            "create",
            "--file",
            file.to_str().unwrap(),
            "--project",
            "demo",
            "--project-domain",
            "Default",
            "-f",
            "json",
            &name,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let img: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let demo = session(&lab, "lab-demo").token().await.unwrap().project_id.unwrap();
    assert_eq!(img["owner"], demo.as_str());
    assert_eq!(img["disk_format"], "qcow2", "detected from the file");
    let o = stackdrop(&lab, &["--os-cloud", "lab", "image", "delete", img["id"].as_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = stackdrop(
        &lab,
        &["--os-cloud", "lab", "image", "create", "--file", file.to_str().unwrap(), "--project", "nope", &name],
    );
    assert_eq!(stderr(&o), "stackdrop: no project with the id or name 'nope'\n");
    assert!(images_named(&lab, &name).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn an_id_that_exists_is_a_409_and_the_existing_image_is_untouched() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let file = qcow2(dir.path(), "d", 1);
    let s = session(&lab, "lab");
    let name = unique("conflict");
    let spec = ImageSpec {
        name: name.clone(),
        disk_format: "qcow2".into(),
        container_format: "bare".into(),
        ..Default::default()
    };
    let first = create_and_upload(&s, &spec, &file, &UploadOptions::default()).await.unwrap();
    let id = first.image.id().to_owned();
    let o = stackdrop(
        &lab,
        &["--os-cloud", "lab", "image", "create", "--id", &id, "--file", file.to_str().unwrap(), &name],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Glance reports a conflict (409 on POST"), "{}", stderr(&o));
    // Uploading again into the active image is the other 409.
    let put = s.images().upload(&first.image, reqwest::Body::from(vec![0u8; 512]), 512).await.unwrap_err();
    assert_eq!(put.status(), Some(409), "{put}");
    assert_eq!(s.images().get(&id).await.unwrap().status(), "active");
    s.images().delete(&id).await.unwrap();
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn over_the_size_cap_is_a_413_and_the_image_is_removed() {
    let lab = lab(Layout::Devstack);
    let dir = tempfile::tempdir().unwrap();
    let big = random_file(dir.path(), "big.raw", 49 << 20);
    let s = session(&lab, "lab");
    let name = unique("cap");
    let spec = ImageSpec {
        name: name.clone(),
        disk_format: "raw".into(),
        container_format: "bare".into(),
        ..Default::default()
    };
    let e = create_and_upload(&s, &spec, &big, &UploadOptions::default()).await.unwrap_err();
    assert_eq!(e.status(), Some(413), "{e}");
    assert!(e.to_string().contains("refused the size"), "{e}");
    assert!(matches!(e, Error::Failed { cleanup: stackdrop::upload::error::Cleanup::Deleted, .. }), "{e:?}");
    assert!(images_named(&lab, &name).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn ctrl_c_cancels_and_removes_the_image() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_file(dir.path(), "big.raw", 400 << 20);
    // Ctrl-C, and SIGTERM (a service manager's stop, a logout) alike: cancel and clean up.
    for signal in ["-INT", "-TERM"] {
        let name = unique("cancel");
        let (child, _id) = upload_started(&lab, &big, &name).await;
        assert!(std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("stackdrop: cancelled; image ") && err.contains(" was deleted"), "{signal}: {err}");
        assert!(images_named(&lab, &name).await.is_empty(), "{signal}");
    }
    // A second interrupt leaves at once, but never silently: the image that may be left is named.
    let name = unique("cancel2");
    let (child, id) = upload_started(&lab, &big, &name).await;
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    std::thread::sleep(std::time::Duration::from_millis(50));
    let _ = std::process::Command::new("kill").args(["-INT", &pid]).status();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let left = images_named(&lab, &name).await;
    if !left.is_empty() {
        assert!(err.contains("may be left half-made") && err.contains(&id), "{err}");
        support::lab::session(&lab, "lab").images().delete(&id).await.unwrap();
    }
}

/// Start `image create` of `file` as `name` and wait until its image exists (the upload has
/// begun); the child and the image's id.
async fn upload_started(lab: &support::lab::Lab, file: &std::path::Path, name: &str) -> (std::process::Child, String) {
    let mut child = command(lab, &["--os-cloud", "lab", "image", "create", "--file", file.to_str().unwrap(), name])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if let Some(img) = images_named(lab, name).await.first() {
            return (child, img.id().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the image never appeared");
}

/// Glance's own 415, through the image API directly (the CLI and the engine stop it earlier):
/// the message is Glance's, and the engine's cleanup still runs when it happens.
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn glance_itself_answers_415_for_data_that_is_not_the_declared_format() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let raw = random_file(dir.path(), "random.raw", 1 << 20);
    let s = session(&lab, "lab");
    let name = unique("415");
    let spec = ImageSpec {
        name: name.clone(),
        disk_format: "qcow2".into(),
        container_format: "bare".into(),
        ..Default::default()
    };
    let img = s.images().create(&spec.create_body()).await.unwrap();
    let data = std::fs::read(&raw).unwrap();
    let e = s.images().upload(&img, reqwest::Body::from(data.clone()), data.len() as u64).await.unwrap_err();
    assert_eq!(e.status(), Some(415), "{e}");
    assert!(e.to_string().contains("Image disk_format qcow2 does not match stream data raw"), "{e}");
    s.images().delete(img.id()).await.unwrap();
    assert!(images_named(&lab, &name).await.is_empty());
}

/// Files Glance's own inspector refuses (a QED image; a raw disk whose MBR fails its check):
/// the real Glance answers 415 when they are sent past Stackdrop's inspection, and Stackdrop
/// refuses them before anything is created, saying why.
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn what_glance_refuses_is_refused_before_the_upload() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let qed = support::lab::qemu_img(dir.path(), "disk.qed", "qed", &[], "16M");
    let bad_mbr = support::lab::mbr_disk(dir.path(), "bad-mbr.raw", &[(0x12, [0, 0, 0], 0x83, 2048)]);
    // A vmdk made by qemu-img, with a line its embedded descriptor should not have.
    let vmdk = support::lab::qemu_img(dir.path(), "odd.vmdk", "vmdk", &[], "16M");
    let mut v = std::fs::read(&vmdk).unwrap();
    let at = v.windows(10).position(|w| w == b"createType").unwrap();
    let end = at + v[at..].iter().position(|b| *b == 0).unwrap();
    v[end..end + 9].copy_from_slice(b"rm -rf /\n");
    std::fs::write(&vmdk, &v).unwrap();
    let s = session(&lab, "lab");
    for (file, format, why) in [
        (&qed, "raw", "QED image"),
        (&bad_mbr, "raw", "invalid boot flag"),
        (&vmdk, "vmdk", "a line Glance does not accept"),
    ] {
        // Glance, sent the bytes directly: 415.
        let name = unique("refused");
        let spec = ImageSpec {
            name: name.clone(),
            disk_format: format.into(),
            container_format: "bare".into(),
            ..Default::default()
        };
        let img = s.images().create(&spec.create_body()).await.unwrap();
        let data = std::fs::read(file).unwrap();
        let e = s.images().upload(&img, reqwest::Body::from(data.clone()), data.len() as u64).await.unwrap_err();
        assert_eq!(e.status(), Some(415), "{}: {e}", file.display());
        s.images().delete(img.id()).await.unwrap();
        // Stackdrop: refused before anything is created.
        let e = create_and_upload(&s, &spec, file, &UploadOptions::default()).await.unwrap_err();
        assert!(matches!(e, Error::Refused { .. }) && e.to_string().contains(why), "{}: {e}", file.display());
        assert!(images_named(&lab, &name).await.is_empty());
    }
}

/// Four different files at once (`--parallel 4`): all active, every checksum verified; and a
/// directory stands for the disk images in it.
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn several_files_upload_concurrently() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique("many");
    let files: Vec<std::path::PathBuf> = (0..4).map(|i| qcow2(dir.path(), &format!("{prefix}-{i}"), 2 + i)).collect();
    let mut args = vec!["--os-cloud", "lab", "image", "create", "--parallel", "4", "-f", "json"];
    for f in &files {
        args.extend(["--file", f.to_str().unwrap()]);
    }
    let o = stackdrop(&lab, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let s = session(&lab, "lab");
    for (row, file) in rows.iter().zip(&files) {
        let data = std::fs::read(file).unwrap();
        assert_eq!(row["Status"], "active", "{row}");
        assert_eq!(row["Checksum"], hex(md5::Md5::digest(&data)));
        let img = s.images().get(row["ID"].as_str().unwrap()).await.unwrap();
        assert_eq!(img.os_hash_value.as_deref(), Some(hex(sha2::Sha512::digest(&data)).as_str()));
        assert_eq!(img.name(), Some(file.file_stem().unwrap().to_str().unwrap()));
        s.images().delete(img.id()).await.unwrap();
    }
    // A directory: its two disk images, not the notes.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(&files[0], sub.join(format!("{prefix}-a.qcow2"))).unwrap();
    std::fs::copy(&files[1], sub.join(format!("{prefix}-b.qcow2"))).unwrap();
    std::fs::write(sub.join("notes.txt"), "not an image").unwrap();
    let o = stackdrop(
        &lab,
        &["--os-cloud", "lab", "image", "create", "--file", sub.to_str().unwrap(), "-f", "value", "-c", "Name"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{prefix}-a\n{prefix}-b\n"));
    for img in images_named(&lab, &prefix).await {
        s.images().delete(img.id()).await.unwrap();
    }
    assert!(images_named(&lab, &prefix).await.is_empty());
}

/// Glance's interoperable import: glance-direct, web-download (from a server on 127.0.0.1:18080,
/// the lab's only allowed source), copy-image into the second store; and clear refusals.
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn interoperable_import_methods() {
    let lab = lab(Layout::Plain);
    let dir = tempfile::tempdir().unwrap();
    let file = qcow2(dir.path(), "d", 2);
    let data = std::fs::read(&file).unwrap();
    let md5 = hex(md5::Md5::digest(&data));
    let name = unique("import");
    let s = session(&lab, "lab");

    // glance-direct: stage + import, verified like an upload.
    let o = stackdrop(
        &lab,
        &["--os-cloud", "lab", "image", "create", "--import", "--file", file.to_str().unwrap(), "-f", "json", &name],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let direct: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((direct["status"].as_str(), direct["checksum"].as_str()), (Some("active"), Some(md5.as_str())));
    assert_eq!(direct["properties"]["owner_specified.openstack.sha256"], hex(sha2::Sha256::digest(&data)));
    let id = direct["id"].as_str().unwrap().to_owned();

    // copy-image into fs2; an unknown store is refused before asking Glance.
    let o =
        stackdrop(&lab, &["--os-cloud", "lab", "image", "import", &id, "--method", "copy-image", "--store", "nope"]);
    assert_eq!(stderr(&o), "stackdrop: unknown store nope (this cloud has: fs, fs2)\n");
    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "image",
            "import",
            &id,
            "--method",
            "copy-image",
            "--store",
            "fs2",
            "--wait",
            "-f",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let copied: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let stores = copied["properties"]["stores"].as_str().unwrap().to_owned();
    assert!(stores.contains("fs") && stores.contains("fs2"), "{stores}");

    // web-download from a local HTTP server.
    let listener =
        std::net::TcpListener::bind("127.0.0.1:18080").expect("port 18080 (the lab's allowed web-download port)");
    let body = data.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = conn;
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut conn, &mut buf);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = std::io::Write::write_all(&mut conn, head.as_bytes());
            let _ = std::io::Write::write_all(&mut conn, &body);
        }
    });
    let web = format!("{name}-web");
    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "image",
            "create",
            "--uri",
            "http://127.0.0.1:18080/d.qcow2",
            "--disk-format",
            "qcow2",
            "-f",
            "json",
            &web,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fetched: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((fetched["status"].as_str(), fetched["checksum"].as_str()), (Some("active"), Some(md5.as_str())));

    // A source Glance will not fetch from: its 400, and no image left.
    let bad = format!("{name}-bad");
    let o = stackdrop(
        &lab,
        &[
            "--os-cloud",
            "lab",
            "image",
            "create",
            "--uri",
            "http://127.0.0.1:18081/d.qcow2",
            "--disk-format",
            "qcow2",
            &bad,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does not pass filtering") && stderr(&o).contains("was deleted"), "{}", stderr(&o));

    for img in images_named(&lab, &name).await {
        s.images().delete(img.id()).await.unwrap();
    }
    assert!(images_named(&lab, &name).await.is_empty());
}

/// Secrets at risk are said once, on stderr: a secret given as a flag (visible in `ps`),
/// certificates not checked. `--debug` logs each request's method, URL, status and time, and
/// nothing secret.
#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn secrets_at_risk_are_said_and_debug_logs_requests() {
    let lab = lab(Layout::Plain);
    let clouds = std::fs::read_to_string(&lab.clouds).unwrap();
    let password =
        clouds.lines().find_map(|l| l.trim().strip_prefix("password: ")).map(|p| p.trim_matches(['\'', '"']));
    let o = stackdrop(&lab, &["--os-cloud", "lab", "--insecure", "--debug", "image", "list", "-f", "json"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("warning: TLS certificates are not checked"), "{err}");
    assert!(!err.contains("is plain http"), "the lab is on loopback: {err}");
    assert!(err.contains("POST ") && err.contains("/v3/auth/tokens -> 201 in "), "{err}");
    assert!(err.contains("GET ") && err.contains("/v2/images") && err.contains("-> 200 in "), "{err}");
    if let Some(p) = password {
        assert!(!err.contains(p), "the password is in --debug's output");
    }
    let o = stackdrop(&lab, &["--os-password", "not-the-password", "profile", "list"]);
    let err = stderr(&o);
    assert!(err.contains("warning: --os-password on the command line is visible to other users"), "{err}");
}
