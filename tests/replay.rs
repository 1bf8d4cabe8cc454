//! Unit tests of the whole flow against recorded exchanges: the seed's devstack replies and the
//! lab's captures, served from 127.0.0.1. They pin down the exact requests Stackdrop sends and
//! how it reads every reply, errors included. (The live lab tests are in tests/lab.rs.)

mod support;

use std::sync::{Arc, Mutex};

use md5::Digest;
use serde_json::{json, Value};
use stackdrop::config::clouds::cloud_from_entry;
use stackdrop::openstack::{Cleanup, Error, Session};
use stackdrop::upload::Error as UploadError;
use stackdrop::upload::{create_and_upload, ImageSpec, UploadOptions};
use support::replay::{seed, Reply, Request, Server};

const TOKEN: &str = "tok-1";
const IMAGE_ID: &str = "94ab1ef3-b9b4-428b-8af2-13b275648695";

fn future_expiry() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// The capture's token reply, valid for another hour, its catalog pointing at `glance`.
fn token_reply(glance: &str) -> Reply {
    let mut r = Reply::capture("03-keystone-auth-tokens.http").header("X-Subject-Token", TOKEN);
    let mut body = r.body_json();
    body["token"]["expires_at"] = json!(future_expiry());
    r = r.with_body_json(&body);
    r.replace("http://127.0.0.1:9292", glance)
}

/// Keystone as captured: discovery at /, tokens at /v3/auth/tokens.
fn keystone(glance: String) -> Server {
    Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        ("POST", "/v3/auth/tokens") => Some(token_reply(&glance)),
        _ => None,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Put {
    Accept,
    Conflict,
    FormatMismatch,
    /// Accept, but report checksums of other data afterwards.
    Corrupt,
}

/// Glance as captured, under `prefix`, remembering what was uploaded.
fn glance(prefix: &'static str, put: Put) -> Server {
    let stored: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    Server::start(move |r| {
        let path = r.path.strip_prefix(prefix)?;
        let image_path = format!("/v2/images/{IMAGE_ID}");
        match (r.method.as_str(), path) {
            ("GET", "/") => Some(Reply::capture(if prefix.is_empty() {
                "10-glance-root.http"
            } else {
                "61-prefix-glance-root.http"
            })),
            ("POST", "/v2/images") => {
                if r.json()["disk_format"] == "qcow3" {
                    return Some(Reply::capture("30-glance-create-bad-disk-format.http"));
                }
                Some(Reply::capture("20-glance-create-image.http"))
            }
            ("PUT", p) if p == format!("{image_path}/file") => match put {
                Put::Accept | Put::Corrupt => {
                    *stored.lock().unwrap() = Some(r.body.clone());
                    Some(Reply::capture("21-glance-upload-file.http"))
                }
                Put::Conflict => Some(Reply::capture("23-glance-upload-to-active.http")),
                Put::FormatMismatch => Some(Reply::capture("35-glance-upload-format-mismatch.http")),
            },
            ("GET", p) | ("PATCH", p) if p == image_path => {
                let mut r22 = Reply::capture("22-glance-get-image.http");
                if put == Put::Accept {
                    let data = stored.lock().unwrap().clone().unwrap_or_default();
                    let mut body = r22.body_json();
                    body["size"] = json!(data.len());
                    body["checksum"] = json!(format!("{:x}", md5::Md5::digest(&data)));
                    body["os_hash_value"] = json!(format!("{:x}", sha2::Sha512::digest(&data)));
                    if r.method == "PATCH" {
                        for op in r.json().as_array().unwrap() {
                            body[op["path"].as_str().unwrap().trim_start_matches('/')] = op["value"].clone();
                        }
                    }
                    r22 = r22.with_body_json(&body);
                }
                Some(r22)
            }
            ("DELETE", p) if p == image_path => Some(Reply::capture("50-glance-delete-image.http")),
            _ => None,
        }
    })
}

fn session(auth_url: &str) -> Session {
    session_with_password(auth_url, "secret")
}

fn session_with_password(auth_url: &str, password: &str) -> Session {
    let entry = json!({"auth": {"auth_url": auth_url, "username": "admin", "password": password,
        "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne"});
    Session::new(cloud_from_entry("replay", &entry).unwrap()).unwrap()
}

fn spec(disk_format: &str) -> ImageSpec {
    ImageSpec {
        name: "capture-qcow2".into(),
        disk_format: disk_format.into(),
        container_format: "bare".into(),
        visibility: Some("public".into()),
        ..Default::default()
    }
}

/// `len` bytes that start with a minimal qcow2 v3 header, so that the local inspection sees
/// the qcow2 the requests declare.
fn data_file(len: usize) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
    let mut h = vec![0u8; 512];
    h[0..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[20..24].copy_from_slice(&16u32.to_be_bytes());
    h[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
    h[96..100].copy_from_slice(&4u32.to_be_bytes());
    h[100..104].copy_from_slice(&104u32.to_be_bytes());
    let n = h.len().min(len);
    data[..n].copy_from_slice(&h[..n]);
    std::io::Write::write_all(&mut f, &data).unwrap();
    f
}

fn find<'a>(reqs: &'a [Request], method: &str, path_end: &str) -> &'a Request {
    reqs.iter()
        .find(|r| r.method == method && r.path.ends_with(path_end))
        .unwrap_or_else(|| panic!("no {method} …{path_end}"))
}

#[tokio::test]
async fn the_captured_sequence_creates_streams_verifies_and_caches() {
    let gl = glance("", Put::Accept);
    let ks = keystone(gl.url());
    let s = session(&ks.url());
    let file = data_file(3 * 1024 * 1024 + 17);
    let done = create_and_upload(&s, &spec("qcow2"), file.path(), &UploadOptions::default()).await.unwrap();

    assert_eq!(done.image.status(), "active");
    assert_eq!(done.verified_os_hash.as_deref(), Some("sha512"));
    assert_eq!(ks.log(), ["GET /", "POST /v3/auth/tokens"]);
    let image = format!("/v2/images/{IMAGE_ID}");
    assert_eq!(
        gl.log(),
        [
            "GET /".to_string(),
            "POST /v2/images".into(),
            format!("PUT {image}/file"),
            format!("GET {image}"),
            format!("PATCH {image}")
        ]
    );
    let reqs = gl.requests();
    assert!(ks.requests().iter().chain(&reqs).all(|r| r.header("accept") == Some("application/json")));
    let auth = &ks.requests()[1];
    assert_eq!(auth.json()["auth"]["identity"]["password"]["user"]["name"], "admin");
    assert_eq!(auth.json()["auth"]["scope"]["project"]["domain"]["name"], "Default");

    let create = find(&reqs, "POST", "/v2/images");
    assert_eq!(create.header("x-auth-token"), Some(TOKEN));
    let mut body = create.json();
    // The client chooses the id, so that a lost answer can be checked rather than repeated.
    let id = body.as_object_mut().unwrap().remove("id").unwrap();
    assert_eq!(uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap().get_version_num(), 4);
    assert_eq!(
        body,
        json!({"name": "capture-qcow2", "disk_format": "qcow2", "container_format": "bare", "visibility": "public"})
    );

    let put = find(&reqs, "PUT", "/file");
    let len = (3 * 1024 * 1024 + 17).to_string();
    assert_eq!(put.header("content-length"), Some(len.as_str()));
    assert_eq!(put.header("x-openstack-image-size"), Some(len.as_str()));
    assert_eq!(put.header("content-type"), Some("application/octet-stream"));
    assert_eq!(put.header("transfer-encoding"), None);
    assert_eq!(put.body, std::fs::read(file.path()).unwrap());

    let patch = find(&reqs, "PATCH", IMAGE_ID);
    assert_eq!(patch.header("content-type"), Some("application/openstack-images-v2.1-json-patch"));
    let ops = patch.json();
    assert_eq!(ops[0], json!({"op": "add", "path": "/owner_specified.openstack.md5", "value": done.digests.md5}));
    assert_eq!(ops[1]["value"], json!(done.digests.sha256));
    assert_eq!(ops[2]["value"], json!("images/capture-qcow2"));

    // A second upload in the same session: no discovery, no new token.
    create_and_upload(&s, &spec("qcow2"), file.path(), &UploadOptions::default()).await.unwrap();
    assert_eq!(ks.log().len(), 2);
    assert_eq!(gl.log().iter().filter(|l| *l == "GET /").count(), 1);
}

#[tokio::test]
async fn the_seed_devstack_exchange_with_its_foreign_host_and_prefixes() {
    // Glance under /image, Keystone under /identity, both advertising 182.161.114.101 as in the seed.
    let gl = Server::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/image/") | ("GET", "/image") => Some(Reply::json(300, &seed("glance-versions-300"))),
        ("POST", "/image/v2/images") => Some(Reply::json(201, &seed("create-201"))),
        ("DELETE", _) => Some(Reply { status: 204, reason: "No Content".into(), headers: vec![], body: vec![] }),
        ("PUT", _) => Some(Reply::capture("35-glance-upload-format-mismatch.http")),
        _ => None,
    });
    let glance_url = format!("{}/image", gl.url());
    let ks = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/identity") | ("GET", "/identity/") => Some(Reply::json(300, &seed("keystone-versions-300"))),
        ("POST", "/identity/v3/auth/tokens") => {
            let mut body = seed("token-201");
            body["token"]["expires_at"] = json!(future_expiry());
            Some(
                Reply::json(201, &body)
                    .header("X-Subject-Token", TOKEN)
                    .replace("http://182.161.114.101/image", &glance_url),
            )
        }
        _ => None,
    });
    // The seed's OS_* settings: OS_AUTH_URL=http://devstack-debug/identity, OS_PASSWORD=asdf.
    let s = session_with_password(&format!("{}/identity", ks.url()), "asdf");
    let file = data_file(4096);
    let mut spec = spec("qcow2");
    spec.name = "cirros-0.6.1-x86_64-disk".into();
    let err = create_and_upload(&s, &spec, file.path(), &UploadOptions::default()).await.unwrap_err();

    // The configured host was kept; only the advertised path (/identity/v3/) was taken.
    assert_eq!(ks.log(), ["GET /identity", "POST /identity/v3/auth/tokens"]);
    assert_eq!(ks.requests()[1].json(), seed("auth-request"));
    let seed_id = "c36393e2-6f61-433f-8ead-66e932948d98";
    assert_eq!(
        gl.log(),
        [
            "GET /image".to_string(),
            "POST /image/v2/images".into(),
            format!("PUT /image/v2/images/{seed_id}/file"),
            format!("DELETE /image/v2/images/{seed_id}")
        ]
    );
    let mut want = seed("create-request");
    for k in ["owner_specified.openstack.md5", "owner_specified.openstack.sha256", "owner_specified.openstack.object"] {
        want.as_object_mut().unwrap().remove(k);
    }
    let mut sent = gl.requests()[1].json();
    sent.as_object_mut().unwrap().remove("id");
    assert_eq!(sent, want);
    // The 415 is reported in Glance's own words, with the image removed.
    assert_eq!(err.status(), Some(415));
    let msg = err.to_string();
    assert!(msg.contains("Image disk_format qcow2 does not match stream data raw"), "{msg}");
    assert!(msg.ends_with(&format!("image {seed_id} was deleted")), "{msg}");
}

#[tokio::test]
async fn conflict_on_upload_removes_the_image() {
    let gl = glance("", Put::Conflict);
    let ks = keystone(gl.url());
    let err = create_and_upload(&session(&ks.url()), &spec("qcow2"), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("Glance reports a conflict (409 on PUT"), "{msg}");
    assert!(msg.contains("Image status transition from active to saving is not allowed"), "{msg}");
    assert!(matches!(err, UploadError::Failed { cleanup: Cleanup::Deleted, .. }));
    assert!(gl.log().contains(&format!("DELETE /v2/images/{IMAGE_ID}")));
}

#[tokio::test]
async fn a_checksum_mismatch_is_never_left_active() {
    let gl = glance("", Put::Corrupt);
    let ks = keystone(gl.url());
    let err = create_and_upload(&session(&ks.url()), &spec("qcow2"), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("does not match the file that was sent"), "{msg}");
    assert!(matches!(err.root(), UploadError::Verification { .. }));
    assert!(gl.log().contains(&format!("DELETE /v2/images/{IMAGE_ID}")));
    assert!(!gl.log().iter().any(|l| l.starts_with("PATCH")));
}

#[tokio::test]
async fn kept_on_failure_when_asked() {
    let gl = glance("", Put::FormatMismatch);
    let ks = keystone(gl.url());
    let opts = UploadOptions { keep_on_failure: true, ..Default::default() };
    let err = create_and_upload(&session(&ks.url()), &spec("qcow2"), data_file(1000).path(), &opts).await.unwrap_err();
    assert!(matches!(err, UploadError::Failed { cleanup: Cleanup::Kept, .. }));
    assert!(!gl.log().iter().any(|l| l.starts_with("DELETE")));
}

#[tokio::test]
async fn a_bad_disk_format_lists_the_allowed_ones_and_creates_nothing() {
    let gl = glance("", Put::Accept);
    let ks = keystone(gl.url());
    let err = create_and_upload(&session(&ks.url()), &spec("qcow3"), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Glance rejected the request (400 on POST {}/v2/images): disk_format 'qcow3' is not allowed; Glance accepts: ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop",
            gl.url()
        )
    );
    assert!(!gl.log().iter().any(|l| l.starts_with("PUT") || l.starts_with("DELETE")));
}

#[tokio::test]
async fn a_wrong_password_is_one_clear_line() {
    let ks = Server::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        ("POST", "/v3/auth/tokens") => Some(Reply::capture("04-keystone-auth-wrong-password.http")),
        _ => None,
    });
    let err = session(&ks.url()).token().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Keystone at {}/v3/ refused the credentials: wrong user name, password or user domain (Keystone does not say which)", ks.url())
    );
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test]
async fn an_unknown_project_is_told_apart_from_a_wrong_password() {
    let ks = Server::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        // Scoped: 401 as Keystone answers for a project it cannot find; unscoped: accepted.
        ("POST", "/v3/auth/tokens") if r.json()["auth"].get("scope").is_some() => {
            Some(Reply::capture("04-keystone-auth-wrong-password.http"))
        }
        ("POST", "/v3/auth/tokens") => Some(token_reply("http://unused")),
        _ => None,
    });
    let err = session(&ks.url()).token().await.unwrap_err().to_string();
    assert!(err.contains("the credentials are valid, but project 'admin' (domain 'Default') does not exist"), "{err}");
}

#[tokio::test]
async fn no_image_service_in_the_catalog() {
    let ks = Server::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        ("POST", "/v3/auth/tokens") => {
            let mut r = token_reply("http://unused");
            let mut body = r.body_json();
            body["token"]["catalog"].as_array_mut().unwrap().retain(|s| s["type"] != "image");
            r = r.with_body_json(&body);
            Some(r)
        }
        _ => None,
    });
    let err = session(&ks.url()).image_service().await.unwrap_err().to_string();
    assert!(
        err.starts_with("the service catalog has no 'image' endpoint for interface public in region RegionOne"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_auth_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = session(&format!("http://127.0.0.1:{port}/v3")).token().await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("cannot reach http://127.0.0.1:{port}/v3/auth/tokens")), "{err}");
}

#[tokio::test]
async fn glance_401_without_a_token_is_reported_as_such() {
    let v: Value = Reply::capture("13-glance-images-no-token.http").body_json();
    let msg = stackdrop::openstack::error::clean_message(&v.to_string());
    assert!(msg.starts_with("This server could not verify that you are authorized"), "{msg}");
    assert!(!msg.contains("<br"), "{msg}");
}

fn redirect(status: u16, to: &str) -> Reply {
    Reply { status, reason: "Redirect".into(), headers: vec![("Location".into(), to.into())], body: vec![] }
}

/// Keystone answers the password `POST` with a 307/308 to another server: the password body
/// is not sent there, and the error names both addresses.
#[tokio::test]
async fn a_password_is_never_sent_on_to_another_server() {
    for status in [307, 308] {
        let elsewhere = Server::start(|_| None);
        let target = format!("{}/v3/auth/tokens", elsewhere.url());
        let to = target.clone();
        let ks = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
            ("POST", "/v3/auth/tokens") => Some(redirect(status, &to)),
            _ => None,
        });
        let err = session_with_password(&ks.url(), "hunter2").token().await.unwrap_err();
        let from = format!("{}/v3/auth/tokens", ks.url());
        assert!(matches!(&err, Error::Redirect { from: f, to: t } if *f == from && *t == target), "{err:?}");
        assert!(err.to_string().starts_with(&format!("{from} redirected to {target}, another")), "{err}");
        assert!(elsewhere.requests().is_empty(), "{status}: {:?}", elsewhere.log());
        assert_eq!(ks.log(), ["GET /", "POST /v3/auth/tokens"], "{status}: not retried either");
    }
}

/// Glance redirects an image list (sent with `X-Auth-Token`) to another port: the token does
/// not go there.
#[tokio::test]
async fn a_token_is_never_sent_on_to_another_server() {
    let elsewhere = Server::start(|_| None);
    let target = elsewhere.url();
    let gl = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
        ("GET", p) if p.starts_with("/v2/images") => Some(redirect(302, &format!("{target}{p}"))),
        _ => None,
    });
    let ks = keystone(gl.url());
    let err = session(&ks.url()).images().list(&[]).await.unwrap_err();
    assert!(matches!(err, Error::Redirect { .. }), "{err:?}");
    assert!(elsewhere.requests().is_empty(), "{:?}", elsewhere.log());
}

/// Within one server a redirect is followed as before, the 307 keeping its body.
#[tokio::test]
async fn a_redirect_within_the_same_server_is_followed() {
    let ks = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        ("POST", "/v3/auth/tokens") => Some(redirect(307, "/moved/v3/auth/tokens")),
        ("POST", "/moved/v3/auth/tokens") => Some(token_reply("http://127.0.0.1:9")),
        _ => None,
    });
    let token = session(&ks.url()).token().await.unwrap();
    assert_eq!(token.value.expose(), TOKEN);
    assert_eq!(ks.log(), ["GET /", "POST /v3/auth/tokens", "POST /moved/v3/auth/tokens"]);
    assert_eq!(ks.requests()[2].json()["auth"]["identity"]["password"]["user"]["password"], "secret");
}

/// A token store in memory, with the fingerprint key the keyring would keep.
#[derive(Clone)]
struct Kept {
    blob: Arc<Mutex<Option<String>>>,
    key: Arc<Mutex<String>>,
}

impl stackdrop::openstack::session::TokenStore for Kept {
    fn load(&self) -> Option<stackdrop::openstack::Secret> {
        self.blob.lock().unwrap().clone().map(stackdrop::openstack::Secret::new)
    }
    fn save(&self, blob: &stackdrop::openstack::Secret) {
        *self.blob.lock().unwrap() = Some(blob.expose().to_owned());
    }
    fn clear(&self) {
        *self.blob.lock().unwrap() = None;
    }
    fn fingerprint_key(&self) -> Option<stackdrop::openstack::Secret> {
        Some(stackdrop::openstack::Secret::new(self.key.lock().unwrap().clone()))
    }
}

/// The kept token's fingerprint covers the password, so it is keyed (HMAC under a random key
/// kept apart): the blob holds no plain hash that would let a password be guessed offline.
/// It still does its job: the token is reused for the same settings and password only.
#[tokio::test]
async fn the_kept_token_holds_no_plain_hash_of_the_password() {
    let ks = keystone("http://127.0.0.1:9".into());
    let kept = Kept { blob: Arc::default(), key: Arc::new(Mutex::new("k1".into())) };
    let with = |password: &str| session_with_password(&ks.url(), password).with_token_store(Box::new(kept.clone()));
    let posts = || ks.log().iter().filter(|l| l.starts_with("POST")).count();
    with("hunter2").token().await.unwrap();
    let blob: Value = serde_json::from_str(kept.blob.lock().unwrap().as_deref().unwrap()).unwrap();
    assert_eq!(blob["v"], 2);
    // What version 1 stored: SHA-256 over the settings and the auth body, password included.
    let s = session_with_password(&ks.url(), "hunter2");
    let c = s.cloud();
    let mut h = sha2::Sha256::new();
    for part in [
        c.auth_url.to_string(),
        stackdrop::openstack::identity::request_body(&c.credentials).to_string(),
        c.interface.to_string(),
        c.region.clone().unwrap_or("-".into()),
        "-".into(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let plain = format!("{:x}", h.finalize());
    let text = kept.blob.lock().unwrap().clone().unwrap();
    assert!(!text.contains(&plain) && !text.contains("hunter2"), "{text}");
    // Reused for the same settings and password, under the same key.
    with("hunter2").token().await.unwrap();
    assert_eq!(posts(), 1);
    // Under another key the fingerprint no longer matches: a new login.
    *kept.key.lock().unwrap() = "k2".into();
    with("hunter2").token().await.unwrap();
    assert_eq!(posts(), 2);
    // Another password never reuses the token.
    with("other").token().await.unwrap();
    assert_eq!(posts(), 3);
}

/// `--protected` is set after verification, never at create: a protected image would refuse
/// the DELETE that cleans up a failed upload, and stay behind.
#[tokio::test]
async fn protection_comes_only_after_the_image_is_verified() {
    let protected = || ImageSpec { protected: Some(true), ..spec("qcow2") };
    let gl = glance("", Put::Accept);
    let ks = keystone(gl.url());
    let done = create_and_upload(&session(&ks.url()), &protected(), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap();
    assert_eq!(done.image.protected, Some(true));
    let reqs = gl.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap().json();
    assert!(post.get("protected").is_none(), "{post}");
    let patch = reqs.iter().rfind(|r| r.method == "PATCH").unwrap().json();
    assert!(
        patch.as_array().unwrap().contains(&json!({"op": "replace", "path": "/protected", "value": true})),
        "{patch}"
    );
    // A failed upload never protects, and its cleanup works.
    let gl = glance("", Put::Conflict);
    let ks = keystone(gl.url());
    let err = create_and_upload(&session(&ks.url()), &protected(), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Failed { cleanup: Cleanup::Deleted, .. }), "{err}");
    assert!(!gl.log().iter().any(|l| l.starts_with("PATCH")), "{:?}", gl.log());
}

/// Cleaning up an image that is protected anyway unprotects it first.
#[tokio::test]
async fn cleanup_unprotects_a_protected_image_first() {
    let is_protected = Arc::new(Mutex::new(true));
    let state = is_protected.clone();
    let gl = Server::start(move |r| {
        let image_path = format!("/v2/images/{IMAGE_ID}");
        let image = || {
            let mut r22 = Reply::capture("22-glance-get-image.http");
            let mut body = r22.body_json();
            body["protected"] = json!(*state.lock().unwrap());
            r22 = r22.with_body_json(&body);
            r22
        };
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
            ("GET", p) if p == image_path => Some(image()),
            ("PATCH", p) if p == image_path => {
                for op in r.json().as_array().unwrap() {
                    if op["path"] == "/protected" {
                        *state.lock().unwrap() = op["value"].as_bool().unwrap();
                    }
                }
                Some(image())
            }
            ("DELETE", p) if p == image_path && *state.lock().unwrap() => Some(Reply::json(
                403,
                &json!({"message": format!("Image {IMAGE_ID} is protected and cannot be deleted."), "code": "403 Forbidden"}),
            )),
            ("DELETE", p) if p == image_path => Some(Reply::capture("50-glance-delete-image.http")),
            _ => None,
        }
    });
    let ks = keystone(gl.url());
    let s = session(&ks.url());
    assert_eq!(s.images().remove_made(IMAGE_ID).await, Cleanup::Deleted);
    assert!(!*is_protected.lock().unwrap());
    let log = gl.log();
    let deletes = log.iter().filter(|l| l.starts_with("DELETE")).count();
    assert_eq!(deletes, 2, "{log:?}");
}

/// Replies are bounded: an image list whose `next` link never ends (or repeats) stops with an
/// error, and a reply larger than the cap is refused rather than held in memory.
#[tokio::test]
async fn endless_or_huge_replies_are_cut_off() {
    let gl = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
        ("GET", p) if p.starts_with("/v2/images?") => {
            Some(Reply::json(200, &json!({"images": [], "next": "/v2/images?marker=same"})))
        }
        _ => None,
    });
    let ks = keystone(gl.url());
    let err = session(&ks.url()).images().list(&[]).await.unwrap_err();
    assert!(err.to_string().contains("did not end"), "{err}");
    assert!(gl.log().len() < 10, "{:?}", gl.log());

    let huge = "x".repeat(stackdrop::openstack::http::MAX_JSON_BODY + 1);
    let ks = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("01-keystone-root.http")),
        ("POST", "/v3/auth/tokens") => Some(Reply::json(201, &json!({"token": huge})).header("X-Subject-Token", TOKEN)),
        _ => None,
    });
    let err = session(&ks.url()).token().await.unwrap_err();
    assert!(matches!(err, Error::BadResponse { .. }) && err.to_string().contains("larger than 16 MiB"), "{err}");
}

/// web-download takes only http(s) addresses; anything else is refused before an image exists.
#[tokio::test]
async fn web_download_takes_only_http_addresses() {
    use stackdrop::openstack::image::import::{create_from_uri, Import, ImportMethod};
    let gl = glance("", Put::Accept);
    let ks = keystone(gl.url());
    let s = session(&ks.url());
    for uri in ["file:///etc/shadow", "ftp://h/x.qcow2", "not a url"] {
        let import = Import {
            method: ImportMethod::WebDownload { uri: uri.into() },
            stores: vec![],
            all_stores: false,
            allow_failure: false,
        };
        let spec = spec("qcow2");
        let never = tokio_util::sync::CancellationToken::new();
        let err =
            create_from_uri(&s, &spec, &import, std::time::Duration::from_secs(5), false, &never).await.unwrap_err();
        assert!(err.to_string().contains("needs an http:// or https:// address"), "{err}");
    }
    assert!(!gl.log().iter().any(|l| l.starts_with("POST")), "{:?}", gl.log());
}

/// A file rewritten in place while it streams (same size): its checksums would match what was
/// sent, but the image may be half old, half new. The upload fails and the image is deleted.
#[tokio::test]
async fn a_file_changed_during_the_upload_is_not_trusted() {
    let gl = glance("", Put::Accept);
    let ks = keystone(gl.url());
    let file = data_file(1 << 20);
    let path = file.path().to_owned();
    let rewritten = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let once = rewritten.clone();
    let progress: stackdrop::upload::ProgressFn = Arc::new(move |p: &stackdrop::upload::Progress| {
        if p.phase == stackdrop::upload::Phase::Uploading && !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            use std::io::{Seek, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.seek(std::io::SeekFrom::Start(4096)).unwrap();
            f.write_all(&[0xAB; 4096]).unwrap();
            f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
        }
    });
    let opts = UploadOptions { progress: Some(progress), ..Default::default() };
    let err = create_and_upload(&session(&ks.url()), &spec("qcow2"), file.path(), &opts).await.unwrap_err();
    assert!(rewritten.load(std::sync::atomic::Ordering::SeqCst));
    assert!(err.to_string().contains("it changed while it was being uploaded"), "{err}");
    assert!(matches!(err, UploadError::Failed { cleanup: Cleanup::Deleted, .. }), "{err:?}");
    assert!(gl.log().contains(&format!("DELETE /v2/images/{IMAGE_ID}")));
}

/// The POST's answer is lost (503) but Glance made the image; the check (GET) fails too; the
/// repeated POST gets 409 for that same id. The create fails — and the image made by the first
/// POST is deleted, not left behind unknown.
#[tokio::test]
async fn a_create_whose_answers_are_lost_leaves_no_image() {
    let made: Arc<Mutex<Option<String>>> = Arc::default();
    let m = made.clone();
    let gl = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
        ("POST", "/v2/images") => {
            let id = r.json()["id"].as_str().unwrap().to_owned();
            let first = m.lock().unwrap().replace(id).is_none();
            let status = if first { 503 } else { 409 };
            Some(Reply::json(status, &json!({"message": "lost", "code": status})))
        }
        ("GET", p) if p.starts_with("/v2/images/") => Some(Reply::json(503, &json!({"message": "busy"}))),
        ("DELETE", p) if p.starts_with("/v2/images/") => Some(Reply::capture("50-glance-delete-image.http")),
        _ => None,
    });
    let ks = keystone(gl.url());
    let err = create_and_upload(&session(&ks.url()), &spec("qcow2"), data_file(1000).path(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    let id = made.lock().unwrap().clone().unwrap();
    assert!(gl.log().contains(&format!("DELETE /v2/images/{id}")), "{:?}", gl.log());
    assert!(!gl.log().iter().any(|l| l.starts_with("PUT")));
}

/// A web-download can be cancelled while Glance fetches; its image is deleted.
#[tokio::test]
async fn a_web_download_can_be_cancelled_and_leaves_no_image() {
    use stackdrop::openstack::image::import::{create_from_uri, Import, ImportMethod};
    let gl = Server::start(move |r| {
        let image_path = format!("/v2/images/{IMAGE_ID}");
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
            ("GET", "/v2/info/import") => {
                Some(Reply::json(200, &json!({"import-methods": {"value": ["web-download"]}})))
            }
            ("POST", "/v2/images") => Some(Reply::capture("20-glance-create-image.http")),
            ("POST", p) if p == format!("{image_path}/import") => Some(Reply::json(202, &json!({}))),
            ("GET", p) if p == image_path => {
                let mut r = Reply::capture("22-glance-get-image.http");
                let mut body = r.body_json();
                body["status"] = json!("importing");
                r = r.with_body_json(&body);
                Some(r)
            }
            ("DELETE", p) if p == image_path => Some(Reply::capture("50-glance-delete-image.http")),
            _ => None,
        }
    });
    let ks = keystone(gl.url());
    let s = session(&ks.url());
    let import = Import {
        method: ImportMethod::WebDownload { uri: "http://example.com/d.qcow2".into() },
        stores: vec![],
        all_stores: false,
        allow_failure: false,
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        c.cancel();
    });
    let err = create_from_uri(&s, &spec("qcow2"), &import, std::time::Duration::from_secs(60), false, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err.root(), Error::Cancelled), "{err}");
    assert!(matches!(err, Error::Abandoned { cleanup: Cleanup::Deleted, .. }), "{err}");
    assert_eq!(err.to_string(), format!("cancelled; image {IMAGE_ID} was deleted"));
    assert!(gl.log().contains(&format!("DELETE /v2/images/{IMAGE_ID}")));
}

/// Found by the long soak: the cleanup DELETE got a 503 although Glance had deleted the image,
/// and the repeat was refused ("Image status transition from deleted to deleted"). The image
/// is gone, and the cleanup says so.
#[tokio::test]
async fn a_repeated_delete_of_a_deleted_image_counts_as_deleted() {
    let deleted = Arc::new(Mutex::new(false));
    let d = deleted.clone();
    let gl = Server::start(move |r| {
        let image_path = format!("/v2/images/{IMAGE_ID}");
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => Some(Reply::capture("10-glance-root.http")),
            ("DELETE", p) if p == image_path => {
                let already = std::mem::replace(&mut *d.lock().unwrap(), true);
                Some(if already {
                    Reply::json(
                        400,
                        &json!({"message": "Image status transition from deleted to deleted is not allowed"}),
                    )
                } else {
                    Reply::json(503, &json!({"message": "busy"}))
                })
            }
            ("GET", p) if p == image_path => Some(Reply::json(404, &json!({"message": "not found"}))),
            _ => None,
        }
    });
    let ks = keystone(gl.url());
    let s = session(&ks.url());
    assert_eq!(s.images().remove_made(IMAGE_ID).await, Cleanup::Deleted, "{:?}", gl.log());
    assert_eq!(gl.log().iter().filter(|l| l.starts_with("DELETE")).count(), 2);
    // The same for a plain delete (`image delete`, the window's Delete): found by the long
    // soak's own clean-up.
    *deleted.lock().unwrap() = false;
    s.images().delete(IMAGE_ID).await.unwrap_or_else(|e| panic!("{e}: {:?}", gl.log()));
    assert_eq!(gl.log().iter().filter(|l| l.starts_with("DELETE")).count(), 4);
}
