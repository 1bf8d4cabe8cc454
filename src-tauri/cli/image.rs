//! `stackdrop image …`: one function per command, over the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use stackdrop::i18n::Localized;
use stackdrop::openstack::image::import::ImportMethod;
use stackdrop::openstack::image::Image;
use stackdrop::openstack::Session;

use super::error::Error;
use stackdrop::upload::{self, ImageSpec, Queue, UploadOptions};

use super::output::{self, OutputArgs};
use super::{inspection_fields, io, progress, session, CopyArgs, CreateArgs, GlobalArgs};

/// `image create`: one file, several, a URL (web-download), or no data at all.
pub async fn create(g: &GlobalArgs, mut args: CreateArgs, out: &mut dyn Write) -> Result<(), Error> {
    let (s, defaults) = session(g)?;
    let mut spec = args.spec();
    if args.convert.is_some() && !matches!(spec.disk_format.as_str(), "" | "qcow2") {
        return Err(Error::Usage(format!(
            "--convert qcow2 creates a qcow2 image: --disk-format {} does not go with it",
            spec.disk_format
        )));
    }
    if args.convert.is_none() && !args.no_convert {
        args.profile_convert = defaults.convert;
    }
    // The profile's upload defaults fill what the flags leave out (a file's own format,
    // read from its headers, still wins over a default disk format).
    if spec.visibility.is_none() {
        spec.visibility = defaults.visibility;
    }
    if spec.disk_format.is_empty() && (args.uri.is_some() || args.file.is_empty()) {
        spec.disk_format = defaults.disk_format.unwrap_or_default();
    }
    if let Some(p) = &args.project {
        spec.owner =
            Some(stackdrop::openstack::identity::projects::resolve_id(&s, p, args.project_domain.as_deref()).await?);
    }
    if let Some(uri) = &args.uri {
        if spec.name.is_empty() {
            return Err(Error::Usage("give the image a NAME".into()));
        }
        let import = args.stores.import(ImportMethod::WebDownload { uri: uri.clone() });
        // Ctrl-C / SIGTERM cancel the wait; the image is deleted as after a failure.
        let cancel = CancellationToken::new();
        watch_signals(cancel.clone(), "cli.cancelling");
        let image = stackdrop::openstack::image::import::create_from_uri(
            &s,
            &spec,
            &import,
            Duration::from_secs(args.wait_timeout),
            args.keep_on_failure,
            &cancel,
        )
        .await
        .map_err(upload::Error::from)?;
        return output::show_one(out, &image.fields(), &args.output).map_err(io);
    }
    if args.stores.given() && !args.import {
        return Err(Error::Usage("--store, --all-stores and --allow-failure go with --import or --uri".into()));
    }
    let files = args.files()?;
    if !args.to.is_empty() {
        return create_everywhere(g, s, &spec, &files, &args, out).await;
    }
    if files.len() > 1 {
        if args.name.is_some() || args.id.is_some() {
            return Err(Error::Usage(
                "with several files each image is named after its file: give no NAME or --id".into(),
            ));
        }
        return create_many(&s, &spec, &files, &args, out).await;
    }
    let image = match files.first() {
        Some(path) => upload_one(&s, spec.clone(), path, &args).await?,
        None => {
            if spec.name.is_empty() {
                return Err(Error::Usage("give the image a NAME (or --file to name it after the file)".into()));
            }
            if spec.disk_format.is_empty() {
                spec.disk_format = "raw".into();
            }
            s.images().create(&spec.create_body()).await?
        }
    };
    output::show_one(out, &image.fields(), &args.output).map_err(io)
}

/// One file: a progress bar on a terminal (or with `--progress`), and a hint for `--min-disk`.
async fn upload_one(
    s: &Session,
    mut spec: ImageSpec,
    path: &std::path::Path,
    args: &CreateArgs,
) -> Result<Image, Error> {
    if spec.name.is_empty() {
        spec.name = stackdrop::upload::local::image_name(path);
    }
    if args.min_disk.is_none() && std::io::stderr().is_terminal() {
        min_disk_hint(path);
    }
    let show = args.progress || std::io::stderr().is_terminal();
    let mut opts = upload_options(args, Some(tracked(show.then(progress::terminal_bar))));
    opts.convert = convert_for(args, path);
    let done = upload::create_and_upload(s, &spec, path, &opts).await;
    settled(&done);
    if show {
        eprintln!();
    }
    Ok(done?.image)
}

/// The conversion for `path`: `--convert` as asked (a file that is not raw is then refused);
/// the profile's default only for a raw file (any other uploads as it is).
fn convert_for(args: &CreateArgs, path: &std::path::Path) -> Option<stackdrop::convert::Format> {
    args.convert.or_else(|| {
        let raw =
            || tokio::task::block_in_place(|| stackdrop::inspect::inspect_path(path)).is_ok_and(|f| f.format == "raw");
        args.profile_convert.filter(|_| raw())
    })
}

/// The engine inspects and checks the file itself; this reads it only to suggest `--min-disk`.
fn min_disk_hint(path: &std::path::Path) {
    let found = tokio::task::block_in_place(|| stackdrop::inspect::inspect_path(path).ok());
    if let Some(v) = found.and_then(|f| f.virtual_size).filter(|v| *v > 0) {
        let gib = v.div_ceil(1 << 30);
        eprintln!("{}", stackdrop::i18n::tf("cli.note.min_disk", &[("size", &progress::bytes(v)), ("gib", &gib)]));
    }
}

/// `image inspect PATH`: what the file is and whether Glance would take it.
pub fn inspect(path: PathBuf, output: OutputArgs, out: &mut dyn Write) -> Result<(), Error> {
    let found = tokio::task::block_in_place(|| stackdrop::inspect::inspect_path(&path))
        .map_err(|e| Error::File { path: path.display().to_string(), detail: e.to_string() })?;
    output::show_one(out, &inspection_fields(&found), &output).map_err(io)
}

/// `image delete IMAGE…`: each by id or unique name; the others go on when one fails.
pub async fn delete(g: &GlobalArgs, images: Vec<String>, out: &mut dyn Write) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let mut failed = 0;
    for name in &images {
        let r = async {
            let img = s.images().find(name).await?;
            s.images().delete(img.id()).await
        }
        .await;
        if let Err(e) = r {
            failed += 1;
            eprintln!("stackdrop: {}", stackdrop::i18n::tf("cli.delete_failed", &[("name", name), ("error", &e)]));
        }
    }
    out.flush().map_err(io)?;
    if failed > 0 {
        return Err(Error::Partly { failed, total: images.len(), what: "deletions" });
    }
    Ok(())
}

fn upload_options(args: &CreateArgs, progress: Option<stackdrop::upload::ProgressFn>) -> UploadOptions {
    let cancel = CancellationToken::new();
    watch_signals(cancel.clone(), "cli.cancelling");
    let import = args.import.then(|| args.stores.import(ImportMethod::GlanceDirect));
    let on_warning: Option<stackdrop::upload::WarnFn> = Some(std::sync::Arc::new(|m: &str| {
        eprintln!("\nstackdrop: {}", stackdrop::i18n::tf("cli.warning", &[("message", &m)]))
    }));
    UploadOptions {
        keep_on_failure: args.keep_on_failure,
        force: args.force,
        cancel,
        progress,
        import,
        on_warning,
        compress: args.compress,
        activation_timeout: Duration::from_secs(args.wait_timeout),
        ..Default::default()
    }
}

/// Several files, `--parallel` at a time, one progress line each; a table of the outcomes.
async fn create_many(
    s: &Session,
    spec: &ImageSpec,
    files: &[PathBuf],
    args: &CreateArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let show = args.progress || std::io::stderr().is_terminal();
    let bars = progress::MultiBar::new(files.iter().map(|f| stackdrop::upload::local::image_name(f)).collect());
    let opts = upload_options(args, None);
    let queue = Queue::new(args.parallel as usize);
    let results = futures_util::future::join_all(files.iter().enumerate().map(|(i, path)| {
        // Ctrl-C (the shared token) cancels every upload, waiting or running.
        let ticket = queue.enter(Some(&opts.cancel));
        let progress = Some(tracked(show.then(|| bars.line(i))));
        let convert = convert_for(args, path);
        let opts = UploadOptions { progress, cancel: ticket.cancel.clone(), convert, ..opts.clone() };
        let spec = ImageSpec { name: stackdrop::upload::local::image_name(path), ..spec.clone() };
        let queue = &queue;
        async move {
            let result = queue.run(&ticket, upload::create_and_upload(s, &spec, path, &opts)).await;
            settled(&result);
            result
        }
    }))
    .await;
    let mut rows = Vec::new();
    let mut failed = 0;
    for (path, r) in files.iter().zip(&results) {
        let file = json!(path.display().to_string());
        match r {
            Ok(u) => rows.push(vec![
                file,
                json!(u.image.id()),
                json!(u.image.name()),
                json!(u.image.status()),
                json!(u.digests.md5),
                Value::Null,
            ]),
            Err(e) => {
                failed += 1;
                rows.push(vec![file, Value::Null, Value::Null, json!("failed"), Value::Null, json!(e.to_string())]);
            }
        }
    }
    output::show_list(out, &["File", "ID", "Name", "Status", "Checksum", "Error"], &rows, &args.output).map_err(io)?;
    if failed > 0 {
        return Err(Error::Partly { failed, total: files.len(), what: "uploads" });
    }
    Ok(())
}

/// `--to`: each file read once and streamed to --os-cloud and every --to at the same time; a
/// progress line per target and file, then a table of the outcomes.
async fn create_everywhere(
    g: &GlobalArgs,
    source: Session,
    spec: &ImageSpec,
    files: &[PathBuf],
    args: &CreateArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if files.is_empty() {
        return Err(Error::Usage("--to sends a file: give --file".into()));
    }
    if args.project.is_some() {
        return Err(Error::Usage("--project names a project of one cloud; it does not go with --to".into()));
    }
    if files.len() > 1 && (args.name.is_some() || args.id.is_some()) {
        return Err(Error::Usage("with several files each image is named after its file: give no NAME or --id".into()));
    }
    // The source as the person named it: --os-cloud, else OS_CLOUD, else the OS_* variables.
    let source_label = g.os_cloud.clone().or_else(|| std::env::var("OS_CLOUD").ok().filter(|c| !c.is_empty()));
    let mut targets = vec![(source_label.unwrap_or_else(|| "OS_*".into()), source)];
    for (cloud, region) in &args.to {
        let label = region.as_ref().map_or_else(|| cloud.clone(), |r| format!("{cloud}:{r}"));
        targets.push((label, super::target_session(cloud, region.as_deref())?));
    }
    let show = args.progress || std::io::stderr().is_terminal();
    let labels: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let name = stackdrop::upload::local::image_name(f);
            targets.iter().map(move |(t, _)| if files.len() > 1 { format!("{t} {name}") } else { t.clone() })
        })
        .collect();
    let bars = progress::MultiBar::new(labels);
    let opts = upload_options(args, None);
    let mut rows = Vec::new();
    let mut failed = 0;
    for (n, path) in files.iter().enumerate() {
        let mut spec = spec.clone();
        if spec.name.is_empty() || files.len() > 1 {
            spec.name = stackdrop::upload::local::image_name(path);
        }
        let to: Vec<upload::Target> = targets
            .iter()
            .enumerate()
            .map(|(i, (label, session))| upload::Target {
                label: label.clone(),
                session,
                progress: Some(tracked(show.then(|| bars.line(n * targets.len() + i)))),
            })
            .collect();
        let opts = UploadOptions { convert: convert_for(args, path), ..opts.clone() };
        let results = upload::create_and_upload_to_many(&to, &spec, path, &opts, args.all_or_nothing).await;
        for (i, ((label, _), r)) in targets.iter().zip(&results).enumerate() {
            settled(r);
            if show && r.is_err() {
                bars.failed(n * targets.len() + i);
            }
            let file = json!(path.display().to_string());
            rows.push(match r {
                Ok(u) => vec![
                    json!(label),
                    file,
                    json!(u.image.id()),
                    json!(u.image.status()),
                    json!(verified(u)),
                    Value::Null,
                ],
                Err(e) => {
                    failed += 1;
                    let id = e.cleanup().map(|(id, _)| json!(id)).unwrap_or(Value::Null);
                    vec![json!(label), file, id, json!("failed"), Value::Null, json!(e.localized())]
                }
            });
        }
    }
    outcomes(
        show,
        out,
        &["Target", "File", "ID", "Status", "Verified", "Error"],
        &rows,
        &args.output,
        failed,
        "uploads",
    )
}

/// After a progress line per target: the table of outcomes, and exit 1 when any failed.
fn outcomes(
    show: bool,
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<Value>],
    output: &OutputArgs,
    failed: usize,
    what: &'static str,
) -> Result<(), Error> {
    if show {
        eprintln!();
    }
    output::show_list(out, headers, rows, output).map_err(io)?;
    if failed > 0 {
        return Err(Error::Partly { failed, total: rows.len(), what });
    }
    Ok(())
}

/// `image copy IMAGE --to CLOUD[:REGION]…`: Glance's data streamed to every target at once;
/// a progress line per target, then a table of the outcomes.
pub async fn copy(g: &GlobalArgs, args: CopyArgs, out: &mut dyn Write) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let image = s.images().find(&args.image).await?;
    let mut targets = Vec::new();
    for (cloud, region) in &args.to {
        let label = region.as_ref().map_or_else(|| cloud.clone(), |r| format!("{cloud}:{r}"));
        targets.push((label, super::target_session(cloud, region.as_deref())?));
    }
    let show = args.progress || std::io::stderr().is_terminal();
    let bars = progress::MultiBar::new(targets.iter().map(|(l, _)| l.clone()).collect());
    let cancel = CancellationToken::new();
    watch_signals(cancel.clone(), "cli.cancelling");
    let opts = UploadOptions {
        keep_on_failure: args.keep_on_failure,
        cancel,
        activation_timeout: Duration::from_secs(args.wait_timeout),
        ..Default::default()
    };
    let copy = upload::CopyOptions {
        name: args.name.clone(),
        visibility: args.visibility(),
        force: args.force,
        all_or_nothing: args.all_or_nothing,
    };
    let to: Vec<upload::Target> = targets
        .iter()
        .enumerate()
        .map(|(i, (label, session))| upload::Target {
            label: label.clone(),
            session,
            progress: Some(tracked(show.then(|| bars.line(i)))),
        })
        .collect();
    let results = upload::copy_to_many(&s, &image, &to, &copy, &opts).await;
    let mut rows = Vec::new();
    let mut failed = 0;
    for (i, ((label, _), r)) in targets.iter().zip(&results).enumerate() {
        match r {
            Ok(upload::Copied::Made(u)) => drop(in_flight().remove(u.image.id())),
            Ok(upload::Copied::AlreadyThere(_)) => {}
            Err(e) => {
                if let Some((id, _)) = e.cleanup() {
                    in_flight().remove(id);
                }
                if show {
                    bars.failed(i);
                }
            }
        }
        rows.push(match r {
            Ok(c) => {
                let (verified, outcome) = match c {
                    upload::Copied::Made(u) => (json!(verified(u)), "copied"),
                    upload::Copied::AlreadyThere(_) => (Value::Null, "already there"),
                };
                vec![
                    json!(label),
                    json!(c.image().id()),
                    json!(c.image().status()),
                    verified,
                    json!(outcome),
                    Value::Null,
                ]
            }
            Err(e) => {
                failed += 1;
                let id = e.cleanup().map(|(id, _)| json!(id)).unwrap_or(Value::Null);
                vec![json!(label), id, json!("failed"), Value::Null, json!("failed"), json!(e.localized())]
            }
        });
    }
    outcomes(
        show,
        out,
        &["Target", "ID", "Status", "Verified", "Outcome", "Error"],
        &rows,
        &args.output,
        failed,
        "copies",
    )
}

/// What was checked of an upload against its cloud's Glance.
fn verified(u: &upload::Uploaded) -> String {
    let mut what = vec!["size".to_owned(), "md5".to_owned()];
    if let Some(algo) = &u.verified_os_hash {
        what.push(algo.clone());
    }
    what.join(", ")
}

/// Images this process has made and not yet finished with (verified, or cleaned up): what
/// leaving at once would leave behind.
static IN_FLIGHT: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn in_flight() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<String>> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// `progress`, and the image it reports noted as in flight.
fn tracked(progress: Option<stackdrop::upload::ProgressFn>) -> stackdrop::upload::ProgressFn {
    std::sync::Arc::new(move |p: &stackdrop::upload::Progress| {
        if let Some(id) = &p.image_id {
            in_flight().insert(id.clone());
        }
        if let Some(f) = &progress {
            f(p)
        }
    })
}

/// An upload ended: its image is verified, deleted, or named in the error. Either way it is
/// no longer something a hasty exit would leave unsaid.
fn settled(result: &Result<upload::Uploaded, upload::Error>) {
    match result {
        Ok(u) => drop(in_flight().remove(u.image.id())),
        Err(e) => {
            if let Some((id, _)) = e.cleanup() {
                in_flight().remove(id);
            }
        }
    }
}

/// SIGTERM (a service manager's stop, a logout), where there is such a thing.
#[cfg(unix)]
type Term = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Term = ();

#[cfg(unix)]
fn term_signal() -> Term {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}
#[cfg(not(unix))]
fn term_signal() -> Term {}

/// The next Ctrl-C or SIGTERM.
async fn interrupted(term: &mut Term) {
    #[cfg(unix)]
    if let Some(t) = term {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = t.recv() => {}
        }
        return;
    }
    let _ = term;
    let _ = tokio::signal::ctrl_c().await;
}

/// First Ctrl-C or SIGTERM: cancel (the engine deletes the half-made image). Second: leave
/// at once, naming any image that may be left.
pub(super) fn watch_signals(cancel: CancellationToken, message: &'static str) {
    tokio::spawn(async move {
        let mut term = term_signal();
        interrupted(&mut term).await;
        eprintln!("\nstackdrop: {}", stackdrop::i18n::t(message));
        cancel.cancel();
        interrupted(&mut term).await;
        let left: Vec<String> = in_flight().iter().cloned().collect();
        if !left.is_empty() {
            let ids = left.join(" ");
            eprintln!("\nstackdrop: {}", stackdrop::i18n::tf("cli.left_behind", &[("ids", &ids)]));
        }
        std::process::exit(130);
    });
}
