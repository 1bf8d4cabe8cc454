//! Uploads through a fault-injecting proxy in front of the lab's Glance: every case ends in
//! success after a retry or one clear error, and never leaves an image the test did not expect
//! (checked by listing the lab's images).

mod support;

/// In a module of its own, so that tests/run can run these (mostly waiting on retries and
/// stalls) beside the other lab tests: `--skip lab_faults::` there, `--test faults` here.
mod lab_faults {
    use super::support;

    use std::time::Duration;

    use serde_json::json;
    use stackdrop::config::clouds::cloud_from_entry;
    use stackdrop::openstack::Session;
    use stackdrop::upload::Error;
    use stackdrop::upload::{create_and_upload, ImageSpec, UploadOptions};
    use support::lab::{images_named, lab, random_file, unique, Lab, Layout};
    use support::proxy::{rule, Fault, Proxy, Rule};

    const LEN: u64 = 16 << 20;

    /// The lab's admin, with Glance reached through `proxy`.
    fn session(lab: &Lab, proxy: &Proxy) -> Session {
        let entry = json!({"auth": {"auth_url": format!("{}/v3", lab.keystone), "username": "admin", "password": "secret",
        "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"},
        "image_endpoint_override": proxy.url});
        Session::new(cloud_from_entry("faults", &entry).unwrap()).unwrap()
    }

    /// The cases run one at a time: each measures attempts, which a lab busy with other cases'
    /// uploads would blur.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    struct Case {
        lab: Lab,
        proxy: Proxy,
        name: String,
        file: tempfile::TempDir,
        /// Upload with `--protected`.
        protected: bool,
    }

    impl Case {
        fn new(tag: &str, rules: Vec<Rule>) -> Case {
            let lab = lab(Layout::Plain);
            let proxy = Proxy::start(&lab.glance, rules);
            let file = tempfile::tempdir().unwrap();
            random_file(file.path(), "data.raw", LEN as usize);
            Case { lab, proxy, name: unique(tag), file, protected: false }
        }

        fn path(&self) -> std::path::PathBuf {
            self.file.path().join("data.raw")
        }

        async fn upload(&self, opts: UploadOptions) -> Result<stackdrop::upload::Uploaded, Error> {
            let spec = ImageSpec {
                name: self.name.clone(),
                disk_format: "raw".into(),
                container_format: "bare".into(),
                protected: self.protected.then_some(true),
                ..Default::default()
            };
            create_and_upload(&session(&self.lab, &self.proxy), &spec, &self.path(), &opts).await
        }

        /// Success after retries: exactly one image of this name is left, active; then remove it.
        async fn expect_success(&self, opts: UploadOptions) -> Vec<String> {
            let done =
                self.upload(opts).await.unwrap_or_else(|e| panic!("{}: {e}\n{:#?}", self.name, self.proxy.log()));
            assert_eq!(done.image.status(), "active");
            let left = images_named(&self.lab, &self.name).await;
            assert_eq!(left.iter().map(|i| i.id()).collect::<Vec<_>>(), [done.image.id()], "{:#?}", self.proxy.log());
            stackdrop_delete(&self.lab, done.image.id()).await;
            self.proxy.log()
        }

        /// One clear error, nothing left behind.
        async fn expect_error(&self, opts: UploadOptions) -> Error {
            let e = self.upload(opts).await.expect_err("the upload should fail");
            assert!(images_named(&self.lab, &self.name).await.is_empty(), "{} left behind: {e}", self.name);
            e
        }
    }

    async fn stackdrop_delete(lab: &Lab, id: &str) {
        support::lab::session(lab, "lab").images().delete(id).await.unwrap();
    }

    fn puts(log: &[String]) -> usize {
        log.iter().filter(|l| l.starts_with("PUT ")).count()
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_reset_during_the_put_is_retried_into_a_new_image() {
        let _one = ONE_AT_A_TIME.lock().await;
        for at in [0, LEN / 2, LEN * 99 / 100] {
            let c = Case::new("reset", vec![rule("PUT", "/file", Fault::ResetAfter(at), 1)]);
            let log = c.expect_success(UploadOptions::default()).await;
            assert_eq!(puts(&log), 2, "reset at {at}: {log:#?}");
        }
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_503_on_create_is_checked_then_sent_again() {
        let _one = ONE_AT_A_TIME.lock().await;
        let c = Case::new("503post", vec![rule("POST", "/v2/images", Fault::Status(503), 1)]);
        let log = c.expect_success(UploadOptions::default()).await;
        // The lost POST was looked up by its id (404) before being sent again.
        let i = log.iter().position(|l| l.starts_with("POST") && l.contains("Status(503)")).unwrap();
        assert!(log[i + 1].starts_with("GET /v2/images/"), "{log:#?}");
        assert!(log[i + 2].starts_with("POST /v2/images"), "{log:#?}");
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_503_on_the_put_is_retried_into_a_new_image() {
        let _one = ONE_AT_A_TIME.lock().await;
        let c = Case::new("503put", vec![rule("PUT", "/file", Fault::Status(503), 1)]);
        let log = c.expect_success(UploadOptions::default()).await;
        assert_eq!(puts(&log), 2, "{log:#?}");
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_503_on_get_is_retried() {
        let _one = ONE_AT_A_TIME.lock().await;
        // Fail the first GET of an image (the verification), whatever its id.
        let c = Case::new("503get", vec![rule("GET", "/v2/images/", Fault::Status(503), 1)]);
        let log = c.expect_success(UploadOptions::default()).await;
        let i = log.iter().position(|l| l.contains("Status(503)")).unwrap();
        assert!(
            log[i].starts_with("GET /v2/images/") && log[i + 1] == log[i].replace(" [Status(503)]", ""),
            "{log:#?}"
        );
        assert_eq!(puts(&log), 1, "{log:#?}");
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_401_at_the_put_re_authenticates_and_retries() {
        let _one = ONE_AT_A_TIME.lock().await;
        let c = Case::new("401", vec![rule("PUT", "/file", Fault::DropToken, 1)]);
        let log = c.expect_success(UploadOptions::default()).await;
        assert_eq!(puts(&log), 2, "{log:#?}");
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn final_answers_are_not_retried() {
        let _one = ONE_AT_A_TIME.lock().await;
        for (code, words) in [(409, "reports a conflict"), (413, "refused the size"), (415, "rejected the data")] {
            let c = Case::new("final", vec![rule("PUT", "/file", Fault::Status(code), u32::MAX)]);
            let e = c.expect_error(UploadOptions::default()).await;
            assert_eq!(e.status(), Some(code), "{e}");
            assert!(e.to_string().contains(words) && e.to_string().ends_with("was deleted"), "{e}");
            assert_eq!(puts(&c.proxy.log()), 1, "{code}");
        }
    }

    /// `--protected` on an upload that fails: the real Glance refuses to delete a protected image,
    /// so protection must come only after verification. Nothing is left; on success the image is
    /// protected.
    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_protected_upload_that_fails_leaves_nothing() {
        let _one = ONE_AT_A_TIME.lock().await;
        let mut c = Case::new("protected", vec![rule("PUT", "/file", Fault::Status(415), u32::MAX)]);
        c.protected = true;
        let e = c.expect_error(UploadOptions::default()).await;
        assert!(e.to_string().ends_with("was deleted"), "{e}");
        let mut c = Case::new("protected-ok", vec![]);
        c.protected = true;
        let done = c.upload(UploadOptions::default()).await.unwrap();
        assert_eq!(done.image.protected, Some(true));
        let unprotect = serde_json::json!({"op": "replace", "path": "/protected", "value": false});
        let s = support::lab::session(&c.lab, "lab");
        s.images().patch(done.image.id(), vec![unprotect]).await.unwrap();
        s.images().delete(done.image.id()).await.unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_server_that_keeps_failing_ends_in_one_clear_error() {
        let _one = ONE_AT_A_TIME.lock().await;
        let c = Case::new("503always", vec![rule("PUT", "/file", Fault::Status(503), u32::MAX)]);
        let e = c.expect_error(UploadOptions::default()).await;
        assert_eq!(e.status(), Some(503));
        assert_eq!(puts(&c.proxy.log()), stackdrop::openstack::retry::RetryPolicy::UPLOADS.retries as usize + 1);
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_stalled_server_is_detected_and_retried() {
        let _one = ONE_AT_A_TIME.lock().await;
        // Short for the test; other tests upload at the same time, so a busy lab may also pause a
        // PUT for a while: at least one retry must happen, and it must end well.
        let opts = || UploadOptions { stall_timeout: Duration::from_secs(3), ..Default::default() };
        let c = Case::new("stall1", vec![rule("PUT", "/file", Fault::StallAfter(LEN / 2), 1)]);
        let log = c.expect_success(opts()).await;
        assert!(puts(&log) >= 2, "{log:#?}");
        let c = Case::new("stall", vec![rule("PUT", "/file", Fault::StallAfter(LEN / 2), u32::MAX)]);
        let e = c.expect_error(opts()).await;
        assert!(matches!(e.root(), Error::Stalled { secs: 3 }), "{e:?}");
        assert_eq!(e.to_string().split(';').next().unwrap(), "the upload stalled: the server accepted no data for 3 s");
    }

    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn cancel_at_any_point_removes_the_image() {
        let _one = ONE_AT_A_TIME.lock().await;
        for at in [0, LEN / 2, LEN * 99 / 100] {
            let c = Case::new("cancel", vec![rule("PUT", "/file", Fault::StallAfter(at), 1)]);
            let opts = UploadOptions::default();
            let cancel = opts.cancel.clone();
            let stalls = c.proxy.stalls.clone();
            tokio::spawn(async move {
                while stalls.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                cancel.cancel();
            });
            let e = c.expect_error(opts).await;
            assert!(e.is_cancelled(), "{e}");
            assert!(e.to_string().starts_with("cancelled; image ") && e.to_string().ends_with(" was deleted"), "{e}");
        }
    }

    /// The file is rewritten while the first attempt streams, and that attempt fails (a reset):
    /// the retry must not upload the new content under headers read from the old (found by the
    /// long soak, where such a retry succeeded). One clear error, nothing left.
    #[tokio::test]
    #[ignore = "needs the lab: tests/run, or tests/labs start then cargo test -- --ignored"]
    async fn a_file_rewritten_before_a_retry_is_not_uploaded_again() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let _one = ONE_AT_A_TIME.lock().await;
        let c = Case::new("rewrite-retry", vec![rule("PUT", "/file", Fault::ResetAfter(LEN / 2), 1)]);
        let (path, done) = (c.path(), Arc::new(AtomicBool::new(false)));
        let progress: stackdrop::upload::ProgressFn = Arc::new(move |p: &stackdrop::upload::Progress| {
            if p.phase == stackdrop::upload::Phase::Uploading && !done.swap(true, Ordering::SeqCst) {
                use std::io::{Seek, Write};
                let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.seek(std::io::SeekFrom::Start(0)).unwrap();
                f.write_all(b"rewritten").unwrap();
                f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5)).unwrap();
            }
        });
        let e = c.expect_error(UploadOptions { progress: Some(progress), ..Default::default() }).await;
        assert!(e.to_string().contains("it changed while it was being uploaded"), "{e}");
        assert_eq!(puts(&c.proxy.log()), 1, "no second PUT: {:#?}", c.proxy.log());
    }
}
