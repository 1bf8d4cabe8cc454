//! One file to several clouds and regions (`image create --to`), against the project's two
//! labs: `lab` (the plain layout) and `other` (the devstack-prefix lab: another Keystone, whose
//! RegionOne Glance caps images at 48 MiB, and a second, uncapped Glance in RegionTwo). Each
//! test names its images uniquely and checks that nothing of its own is left in any of them.

mod support;

use md5::Digest;
use serde_json::Value;
use stackdrop::openstack::Session;
use support::lab::{command, lab, random_file, session, stderr, stdout, unique, Lab, Layout};

fn hex(d: impl std::fmt::LowerHex) -> String {
    format!("{d:x}")
}

/// A clouds.yaml with both labs: `lab` and `other`.
fn both_clouds(dir: &std::path::Path) -> (Lab, Lab, std::path::PathBuf) {
    let (plain, prefix) = (lab(Layout::Plain), lab(Layout::Devstack));
    let read = |l: &Lab| -> serde_json::Value {
        serde_yaml_ng::from_str(&std::fs::read_to_string(&l.clouds).unwrap()).unwrap()
    };
    let mut all = read(&plain);
    all["clouds"]["other"] = read(&prefix)["clouds"]["lab"].clone();
    let path = dir.join("clouds.yaml");
    std::fs::write(&path, serde_yaml_ng::to_string(&all).unwrap()).unwrap();
    (plain, prefix, path)
}

/// A session on the devstack lab's cloud in region RegionTwo (its second Glance).
fn region_two(prefix: &Lab) -> Session {
    let clouds = prefix.clouds.display().to_string();
    let env = move |k: &str| match k {
        "OS_CLIENT_CONFIG_FILE" => Some(clouds.clone()),
        "OS_CLIENT_SECURE_FILE" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    let cloud =
        stackdrop::config::resolve(Some("lab"), &serde_json::json!({"region_name": "RegionTwo"}), &env).unwrap();
    Session::new(cloud).unwrap()
}

async fn named(s: &Session, name: &str) -> Vec<stackdrop::openstack::image::Image> {
    s.images().list(&[("name", name)]).await.unwrap()
}

/// `stackdrop --os-cloud lab image create --file FILE NAME MORE…` with both labs' clouds.
fn create(
    plain: &Lab,
    clouds: &std::path::Path,
    file: &std::path::Path,
    name: &str,
    more: &[&str],
) -> std::process::Output {
    let mut args = vec!["--os-cloud", "lab", "image", "create", "--file", file.to_str().unwrap(), name];
    args.extend(more);
    command(plain, &args).env("OS_CLIENT_CONFIG_FILE", clouds).output().unwrap()
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn one_read_to_two_regions_and_another_cloud_each_verified_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, prefix, clouds) = both_clouds(dir.path());
    let f = random_file(dir.path(), "two.raw", 5 << 20);
    let data = std::fs::read(&f).unwrap();
    let name = unique("fan");
    let o = create(
        &plain,
        &clouds,
        &f,
        &name,
        &[
            "--to",
            "other",
            "--to",
            "other:RegionTwo",
            "--tag",
            "fan",
            "--property",
            "os_distro=cirros",
            "--community",
            "-f",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.iter().map(|r| r["Target"].as_str().unwrap()).collect::<Vec<_>>(),
        ["lab", "other", "other:RegionTwo"]
    );
    let sha256 = hex(sha2::Sha256::digest(&data));
    let glances = [session(&plain, "lab"), session(&prefix, "lab"), region_two(&prefix)];
    // Two regions of one cloud are two Glances: each holds its own image only.
    assert_eq!(named(&glances[1], &name).await.len(), 1);
    assert_eq!(named(&glances[2], &name).await.len(), 1);
    assert_ne!(rows[1]["ID"], rows[2]["ID"]);
    for (row, s) in rows.iter().zip(&glances) {
        assert_eq!(row["Status"], "active", "{row}");
        assert_eq!(row["Verified"], "size, md5, sha512", "{row}");
        let img = s.images().get(row["ID"].as_str().unwrap()).await.unwrap();
        // Each Glance holds the same bytes, with the same metadata and openstacksdk's keys.
        assert_eq!(img.name(), Some(name.as_str()));
        assert_eq!(img.checksum.as_deref(), Some(hex(md5::Md5::digest(&data)).as_str()));
        assert_eq!(img.os_hash_value.as_deref(), Some(hex(sha2::Sha512::digest(&data)).as_str()));
        assert_eq!(img.other_str("owner_specified.openstack.sha256"), Some(sha256.as_str()));
        assert_eq!(img.other_str("os_distro"), Some("cirros"));
        assert_eq!(img.tags, ["fan".to_owned()]);
        assert_eq!(img.visibility.as_deref(), Some("community"));
        s.images().delete(img.id()).await.unwrap();
    }
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn a_target_that_refuses_is_cleaned_up_and_the_other_goes_on_unless_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, prefix, clouds) = both_clouds(dir.path());
    // Over `other`'s 48 MiB cap: its Glance answers 413 midway; `lab` takes it all.
    let f = random_file(dir.path(), "big.raw", 49 << 20);
    let (s_lab, s_other) = (session(&plain, "lab"), session(&prefix, "lab"));

    let name = unique("fan-cap");
    let o = create(&plain, &clouds, &f, &name, &["--to", "other", "-f", "json"]);
    assert!(!o.status.success(), "one target failed: the exit status says so");
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows[0]["Status"], "active", "{rows}");
    assert_eq!(rows[1]["Status"], "failed", "{rows}");
    let why = rows[1]["Error"].as_str().unwrap();
    assert!(why.contains("refused the size") && why.contains("was deleted"), "{why}");
    assert_eq!(named(&s_lab, &name).await.len(), 1, "the target that worked keeps its image");
    assert!(named(&s_other, &name).await.is_empty(), "the refused one is cleaned up");
    s_lab.images().delete(rows[0]["ID"].as_str().unwrap()).await.unwrap();

    // All or nothing: the image that worked is removed too.
    let name = unique("fan-all");
    let o = create(&plain, &clouds, &f, &name, &["--to", "other", "-f", "json", "--all-or-nothing"]);
    assert!(!o.status.success());
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let why = rows[0]["Error"].as_str().unwrap();
    assert!(
        why.contains("another target failed, and all or nothing was asked") && why.contains("was deleted"),
        "{why}"
    );
    assert!(named(&s_lab, &name).await.is_empty());
    assert!(named(&s_other, &name).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
async fn a_target_that_cannot_be_reached_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, _, clouds) = both_clouds(dir.path());
    let f = random_file(dir.path(), "r.raw", 1 << 20);
    let name = unique("fan-region");
    // A region `other` does not have: no image service there, said for that target alone.
    let o = create(&plain, &clouds, &f, &name, &["--to", "other:Nowhere", "-f", "json"]);
    assert!(!o.status.success());
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows[0]["Status"], "active", "{rows}");
    assert_eq!(rows[1]["Target"], "other:Nowhere");
    assert!(rows[1]["Error"].as_str().unwrap().contains("Nowhere"), "{rows}");
    let s = session(&plain, "lab");
    s.images().delete(rows[0]["ID"].as_str().unwrap()).await.unwrap();
    // A bad --to is a usage error before anything is sent.
    let o = create(&plain, &clouds, &f, &name, &["--to", "other:"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("'other:' is not CLOUD or CLOUD:REGION"), "{}", stderr(&o));
    assert!(named(&s, &name).await.is_empty());
}
