//! `image copy` between clouds and regions, against the project's two labs: `lab` (the plain
//! layout) is the source; `other` (the devstack-prefix lab, whose RegionOne Glance caps images
//! at 48 MiB) and its uncapped RegionTwo are the targets. Each test names its images uniquely
//! and removes what it made.

mod support;

use md5::Digest;
use serde_json::Value;
use stackdrop::openstack::Session;
use support::lab::{command, lab, random_file, session, stderr, stdout, unique, Lab, Layout};

fn hex(d: impl std::fmt::LowerHex) -> String {
    format!("{d:x}")
}

/// Both labs in one clouds.yaml (`lab`, `other`), and a session on each of the three Glances:
/// lab, other, other:RegionTwo.
fn clouds(dir: &std::path::Path) -> (Lab, std::path::PathBuf, [Session; 3]) {
    let (plain, prefix) = (lab(Layout::Plain), lab(Layout::Devstack));
    let read = |l: &Lab| -> Value { serde_yaml_ng::from_str(&std::fs::read_to_string(&l.clouds).unwrap()).unwrap() };
    let mut all = read(&plain);
    all["clouds"]["other"] = read(&prefix)["clouds"]["lab"].clone();
    let path = dir.join("clouds.yaml");
    std::fs::write(&path, serde_yaml_ng::to_string(&all).unwrap()).unwrap();
    let env_for = |p: String| {
        move |k: &str| match k {
            "OS_CLIENT_CONFIG_FILE" => Some(p.clone()),
            "OS_CLIENT_SECURE_FILE" => Some("/nonexistent".to_owned()),
            _ => None,
        }
    };
    let two = stackdrop::config::resolve(
        Some("other"),
        &serde_json::json!({"region_name": "RegionTwo"}),
        &env_for(path.display().to_string()),
    )
    .unwrap();
    let glances = [session(&plain, "lab"), session(&prefix, "lab"), Session::new(two).unwrap()];
    (plain, path, glances)
}

/// `stackdrop --os-cloud lab ARGS…` with both labs' clouds.
fn run(plain: &Lab, clouds: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--os-cloud", "lab"];
    all.extend(args);
    command(plain, &all).env("OS_CLIENT_CONFIG_FILE", clouds).output().unwrap()
}

fn rows(o: &std::process::Output) -> Vec<Value> {
    let v: Value = serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)));
    v.as_array().unwrap().clone()
}

/// Random data of `len` bytes that begins with `tag`: no other test's file holds the same,
/// so no earlier copy is found in a target.
fn unique_file(dir: &std::path::Path, tag: &str, len: usize) -> std::path::PathBuf {
    let f = random_file(dir, &format!("{tag}.raw"), len);
    let mut data = std::fs::read(&f).unwrap();
    data[..tag.len()].copy_from_slice(tag.as_bytes());
    std::fs::write(&f, data).unwrap();
    f
}

async fn named(s: &Session, name: &str) -> Vec<stackdrop::openstack::image::Image> {
    s.images().list(&[("name", name)]).await.unwrap()
}

/// Delete the images of these names from each Glance.
async fn remove_named(glances: &[Session], names: &[&str]) {
    for s in glances {
        for n in names {
            for img in named(s, n).await {
                s.images().delete(img.id()).await.unwrap();
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn an_image_streams_to_another_cloud_and_region_with_its_metadata_and_is_not_copied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, clouds, glances) = clouds(dir.path());
    let name = unique("copy");
    let f = unique_file(dir.path(), &name, (3 << 20) + 5);
    let data = std::fs::read(&f).unwrap();
    let made = run(
        &plain,
        &clouds,
        &[
            "image",
            "create",
            "--file",
            f.to_str().unwrap(),
            &name,
            "--tag",
            "a",
            "--tag",
            "b",
            "--property",
            "os_distro=cirros",
            "--min-disk",
            "1",
            "--min-ram",
            "64",
            "--community",
            "-f",
            "json",
        ],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let source: Value = serde_json::from_str(&stdout(&made)).unwrap();

    let o = run(&plain, &clouds, &["image", "copy", &name, "--to", "other", "--to", "other:RegionTwo", "-f", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = rows(&o);
    assert_eq!(got.iter().map(|r| r["Target"].as_str().unwrap()).collect::<Vec<_>>(), ["other", "other:RegionTwo"]);
    for (row, s) in got.iter().zip(&glances[1..]) {
        assert_eq!((row["Status"].as_str(), row["Outcome"].as_str()), (Some("active"), Some("copied")), "{row}");
        assert_eq!(row["Verified"], "size, md5, sha512", "{row}");
        let img = s.images().get(row["ID"].as_str().unwrap()).await.unwrap();
        // The same bytes; the user's metadata travelled, Glance's own was made anew.
        assert_ne!(img.id(), source["id"].as_str().unwrap());
        assert_eq!(img.checksum.as_deref(), Some(hex(md5::Md5::digest(&data)).as_str()));
        assert_eq!(img.os_hash_value.as_deref(), Some(hex(sha2::Sha512::digest(&data)).as_str()));
        assert_eq!(img.other_str("owner_specified.openstack.sha256"), Some(hex(sha2::Sha256::digest(&data)).as_str()));
        assert_eq!(img.name(), Some(name.as_str()));
        let mut tags = img.tags.clone();
        tags.sort();
        assert_eq!(tags, ["a", "b"], "Glance keeps tags as a set");
        assert_eq!(img.other_str("os_distro"), Some("cirros"));
        assert_eq!((img.min_disk, img.min_ram), (Some(1), Some(64)));
        assert_eq!(img.visibility.as_deref(), Some("community"));
        assert_eq!(img.disk_format.as_ref().map(|f| f.as_str().to_owned()).as_deref(), Some("raw"));
        assert_ne!(img.created_at.as_deref(), source["created_at"].as_str());
    }

    // Again: both already hold the same data, so nothing is sent or made.
    let again =
        run(&plain, &clouds, &["image", "copy", &name, "--to", "other", "--to", "other:RegionTwo", "-f", "json"]);
    assert!(again.status.success(), "{}", stderr(&again));
    for (row, first) in rows(&again).iter().zip(&got) {
        assert_eq!(row["Outcome"], "already there", "{row}");
        assert_eq!(row["ID"], first["ID"], "the copy found is the one made before");
    }
    assert_eq!(named(&glances[1], &name).await.len(), 1);

    // --force copies again; --name and --private change the copy, not the source.
    let renamed = format!("{name}-2");
    let forced = run(
        &plain,
        &clouds,
        &["image", "copy", &name, "--to", "other", "--force", "--name", &renamed, "--private", "-f", "json"],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let row = &rows(&forced)[0];
    assert_eq!(row["Outcome"], "copied");
    let img = glances[1].images().get(row["ID"].as_str().unwrap()).await.unwrap();
    assert_eq!((img.name(), img.visibility.as_deref()), (Some(renamed.as_str()), Some("private")));

    remove_named(&glances, &[&name, &renamed]).await;
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn a_source_whose_data_does_not_match_its_checksums_leaves_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, clouds, glances) = clouds(dir.path());
    let name = unique("copy-rot");
    let f = unique_file(dir.path(), &name, 2 << 20);
    let made = run(&plain, &clouds, &["image", "create", "--file", f.to_str().unwrap(), &name, "-f", "json"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let id = serde_json::from_str::<Value>(&stdout(&made)).unwrap()["id"].as_str().unwrap().to_owned();
    // Bit rot in the source's store: one byte changed behind Glance's back, the size the same.
    let stored = plain.clouds.parent().unwrap().join("glance/images").join(&id);
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[1 << 20] ^= 0xff;
    std::fs::write(&stored, &bytes).unwrap();

    let o = run(&plain, &clouds, &["image", "copy", &id, "--to", "other", "--to", "other:RegionTwo", "-f", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for row in rows(&o) {
        assert_eq!(row["Outcome"], "failed", "{row}");
        let why = row["Error"].as_str().unwrap();
        assert!(why.contains(&format!("the data of image {id} as its cloud sent it does not match")), "{why}");
        assert!(why.contains("md5") && why.contains("was deleted"), "{why}");
    }
    for s in &glances[1..] {
        assert!(named(s, &name).await.is_empty(), "no copy is left behind");
    }
    glances[0].images().delete(&id).await.unwrap();

    // An image that is not there: said plainly, nothing made.
    let o = run(&plain, &clouds, &["image", "copy", &name, "--to", "other"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(&name), "{}", stderr(&o));
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn a_target_that_refuses_the_copy_is_cleaned_up_and_the_other_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, clouds, glances) = clouds(dir.path());
    // Over `other`'s 48 MiB cap: 413 midway there, while RegionTwo takes it all.
    let name = unique("copy-cap");
    let f = unique_file(dir.path(), &name, 49 << 20);
    let made = run(&plain, &clouds, &["image", "create", "--file", f.to_str().unwrap(), &name, "-f", "json"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let o = run(&plain, &clouds, &["image", "copy", &name, "--to", "other", "--to", "other:RegionTwo", "-f", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = rows(&o);
    let why = got[0]["Error"].as_str().unwrap();
    assert!(why.contains("refused the size") && why.contains("was deleted"), "{why}");
    assert_eq!(got[1]["Outcome"], "copied", "{}", got[1]);
    assert!(named(&glances[1], &name).await.is_empty());
    let copy = glances[2].images().get(got[1]["ID"].as_str().unwrap()).await.unwrap();
    assert_eq!(copy.checksum.as_deref(), Some(hex(md5::Md5::digest(std::fs::read(&f).unwrap())).as_str()));
    remove_named(&glances, &[&name]).await;
}
