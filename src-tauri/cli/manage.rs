//! `stackdrop image list|show|set|unset|save|stage|import`, `image add|remove project`,
//! `image member list|get`, `image stores list`, `image task list|show` and `token issue`:
//! openstackclient's image commands, with its flags, columns and output formats.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Subcommand};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use stackdrop::download::{self, SaveOptions, Target};
use stackdrop::openstack::identity::projects;
use stackdrop::openstack::image::import::{Import, ImportMethod};
use stackdrop::openstack::image::manage::task_fields;
use stackdrop::openstack::image::query::{keep_matching, parse_sort, sort_images, MEMBER_STATUSES};
use stackdrop::openstack::image::{ImageEdit, ImageQuery, ImageStatus};

use super::error::Error;
use super::output::{self, OutputArgs};
use super::{io, parse_property, progress, session, GlobalArgs};

/// openstackclient's `--container-format` choices: Glance's known formats less `compressed`,
/// which openstackclient does not offer.
pub const CONTAINER_FORMATS: &[&str] = &["ami", "ari", "aki", "bare", "docker", "ova", "ovf"];

/// `image list`'s options (openstackclient's).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List only public images
    #[arg(long, group = "list_visibility")]
    pub public: bool,
    /// List only private images
    #[arg(long, group = "list_visibility")]
    pub private: bool,
    /// List only community images
    #[arg(long, group = "list_visibility")]
    pub community: bool,
    /// List only shared images
    #[arg(long, group = "list_visibility")]
    pub shared: bool,
    /// List all images
    #[arg(long, group = "list_visibility")]
    pub all: bool,
    /// Filter output based on property (repeat option to filter on multiple properties)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property, action = ArgAction::Append)]
    pub properties: Vec<(String, String)>,
    /// Filter images based on name
    #[arg(long)]
    pub name: Option<String>,
    /// Filter images based on status
    #[arg(long)]
    pub status: Option<String>,
    /// Filter images based on member status (accepted, pending, rejected, all)
    #[arg(long, value_name = "MEMBER_STATUS", value_parser = member_status)]
    pub member_status: Option<String>,
    /// Search by project (admin only) (name or ID)
    #[arg(long)]
    pub project: Option<String>,
    /// Domain the project belongs to (name or ID)
    #[arg(long)]
    pub project_domain: Option<String>,
    /// Filter images based on tag (repeat option to filter on multiple tags; all must match)
    #[arg(long = "tag", value_name = "TAG", action = ArgAction::Append)]
    pub tags: Vec<String>,
    /// List hidden images
    #[arg(long)]
    pub hidden: bool,
    /// List additional fields in output
    #[arg(long)]
    pub long: bool,
    /// Sort output by selected keys and directions (asc or desc), comma-separated
    #[arg(long, value_name = "KEY[:DIRECTION]", default_value = "name:asc")]
    pub sort: String,
    /// The maximum number of entries to return per page (one page is returned)
    #[arg(long)]
    pub limit: Option<u32>,
    /// The image (name or ID) after which the list starts
    #[arg(long)]
    pub marker: Option<String>,
    /// The maximum number of entries to return in total, paging as needed
    #[arg(long)]
    pub max_items: Option<usize>,
    /// Ignored, as openstackclient ignores it
    #[arg(long, hide = true)]
    pub page_size: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn member_status(s: &str) -> Result<String, String> {
    let s = s.to_lowercase();
    if MEMBER_STATUSES.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!("one of {}", MEMBER_STATUSES.join(", ")))
    }
}

/// `image set`'s options.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Image to modify (name or ID)
    pub image: String,
    /// New image name
    #[arg(long)]
    pub name: Option<String>,
    /// Minimum disk size needed to boot image, in gigabytes
    #[arg(long, value_name = "DISK_GB")]
    pub min_disk: Option<u64>,
    /// Minimum RAM size needed to boot image, in megabytes
    #[arg(long, value_name = "RAM_MB")]
    pub min_ram: Option<u64>,
    /// Image container format (a queued image only)
    #[arg(long, value_parser = CONTAINER_FORMATS.to_vec())]
    pub container_format: Option<String>,
    /// Image disk format (a queued image only)
    #[arg(long, value_parser = stackdrop::openstack::image::DiskFormat::KNOWN.to_vec())]
    pub disk_format: Option<String>,
    /// Prevent image from being deleted
    #[arg(long, group = "set_protected")]
    pub protected: bool,
    /// Allow image to be deleted
    #[arg(long, group = "set_protected")]
    pub unprotected: bool,
    /// Image is accessible and visible to all users
    #[arg(long, group = "set_visibility")]
    pub public: bool,
    /// Image is only accessible by the owner
    #[arg(long, group = "set_visibility")]
    pub private: bool,
    /// Image is accessible by all users but listed only for its owner
    #[arg(long, group = "set_visibility")]
    pub community: bool,
    /// Image is only accessible by the owner and image members
    #[arg(long, group = "set_visibility")]
    pub shared: bool,
    /// Set a property on this image (repeat option to set multiple properties)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property, action = ArgAction::Append)]
    pub properties: Vec<(String, String)>,
    /// Set a tag on this image (repeat option to set multiple tags)
    #[arg(long = "tag", value_name = "TAG", action = ArgAction::Append)]
    pub tags: Vec<String>,
    /// Operating system architecture
    #[arg(long)]
    pub architecture: Option<String>,
    /// ID of server instance used to create this image
    #[arg(long, alias = "instance-uuid")]
    pub instance_id: Option<String>,
    /// ID of kernel image used to boot this disk image
    #[arg(long)]
    pub kernel_id: Option<String>,
    /// Operating system distribution name
    #[arg(long)]
    pub os_distro: Option<String>,
    /// Operating system distribution version
    #[arg(long)]
    pub os_version: Option<String>,
    /// ID of ramdisk image used to boot this disk image
    #[arg(long)]
    pub ramdisk_id: Option<String>,
    /// Deactivate the image
    #[arg(long, conflicts_with = "activate")]
    pub deactivate: bool,
    /// Activate the image
    #[arg(long)]
    pub activate: bool,
    /// Set an alternate project on this image (name or ID); with --accept, --reject or
    /// --pending, the member project whose status to set
    #[arg(long)]
    pub project: Option<String>,
    /// Domain the project belongs to (name or ID)
    #[arg(long)]
    pub project_domain: Option<String>,
    /// Accept the image membership (for --project, or the current project)
    #[arg(long, group = "membership")]
    pub accept: bool,
    /// Reject the image membership (for --project, or the current project)
    #[arg(long, group = "membership")]
    pub reject: bool,
    /// Reset the image membership to 'pending'
    #[arg(long, group = "membership")]
    pub pending: bool,
    /// Hide the image
    #[arg(long, group = "set_hidden")]
    pub hidden: bool,
    /// Unhide the image
    #[arg(long, group = "set_hidden")]
    pub unhidden: bool,
    /// An Image v1 option, refused as openstackclient refuses it
    #[arg(long, hide = true)]
    pub visibility: Option<String>,
}

/// The value of the one flag set among mutually exclusive ones (`--public`/`--private`/…).
pub(crate) fn pick(options: &[(&str, bool)]) -> Option<String> {
    options.iter().find(|(_, on)| *on).map(|(v, _)| v.to_string())
}

fn yes_no(yes: bool, no: bool) -> Option<bool> {
    (yes || no).then_some(yes)
}

impl SetArgs {
    /// The metadata change (everything but activation, membership and the owner).
    pub fn edit(&self) -> ImageEdit {
        let mut properties = self.properties.clone();
        for (k, v) in [
            ("architecture", &self.architecture),
            ("instance_id", &self.instance_id),
            ("kernel_id", &self.kernel_id),
            ("os_distro", &self.os_distro),
            ("os_version", &self.os_version),
            ("ramdisk_id", &self.ramdisk_id),
        ] {
            if let Some(v) = v {
                properties.push((k.to_owned(), v.clone()));
            }
        }
        ImageEdit {
            name: self.name.clone(),
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            container_format: self.container_format.clone(),
            disk_format: self.disk_format.clone(),
            protected: yes_no(self.protected, self.unprotected),
            visibility: pick(&[
                ("public", self.public),
                ("private", self.private),
                ("community", self.community),
                ("shared", self.shared),
            ]),
            hidden: yes_no(self.hidden, self.unhidden),
            properties,
            add_tags: self.tags.clone(),
            ..Default::default()
        }
    }

    fn membership(&self) -> Option<&'static str> {
        [("accepted", self.accept), ("rejected", self.reject), ("pending", self.pending)]
            .into_iter()
            .find(|(_, on)| *on)
            .map(|(s, _)| s)
    }
}

/// `image save`'s options.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Image to save (name or ID)
    pub image: String,
    /// Downloaded image save filename (default: stdout)
    #[arg(long, value_name = "FILENAME")]
    pub file: Option<PathBuf>,
    /// Accepted for openstackclient's scripts; Stackdrop sizes its own buffers
    #[arg(long, value_name = "CHUNK_SIZE")]
    pub chunk_size: Option<u64>,
    /// Draw a progress bar even when stderr is not a terminal
    #[arg(long)]
    pub progress: bool,
    /// Start afresh instead of resuming an earlier, interrupted download to the same file
    #[arg(long)]
    pub no_resume: bool,
}

/// `image stage`'s options.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// Image to upload data for (name or ID)
    pub image: String,
    /// Local file that contains disk image to be uploaded
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Size of image data in bytes (checked against the file)
    #[arg(long)]
    pub size: Option<u64>,
    /// Show upload progress bar
    #[arg(long)]
    pub progress: bool,
}

/// `image import`'s options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Image to initiate import process for (name or ID)
    pub image: String,
    /// Import method: glance-direct (after image stage), web-download, copy-image
    #[arg(long = "method", default_value = "glance-direct", value_parser = ["glance-direct", "web-download", "glance-download", "copy-image"])]
    pub method: String,
    /// URI to download the external image (web-download only)
    #[arg(long)]
    pub uri: Option<String>,
    /// Backend store to upload image to (repeat, or give several)
    #[arg(long = "store", value_name = "STORE", num_args = 0.., action = ArgAction::Append)]
    pub stores: Vec<String>,
    /// Make image available to all stores
    #[arg(long, conflicts_with = "stores")]
    pub all_stores: bool,
    /// Carry on when a store fails (the default)
    #[arg(long, conflicts_with = "disallow_failure")]
    pub allow_failure: bool,
    /// Revert the import when any store fails
    #[arg(long)]
    pub disallow_failure: bool,
    /// Wait for operation to complete
    #[arg(long)]
    pub wait: bool,
    /// glance-download: not supported by Stackdrop
    #[arg(long, hide = true)]
    pub remote_image: Option<String>,
    #[arg(long, hide = true)]
    pub remote_region: Option<String>,
    #[arg(long, hide = true)]
    pub remote_service_interface: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Associate project with image
    Project {
        /// Image to share (name or ID)
        image: String,
        /// Project to associate with image (name or ID)
        project: String,
        /// Domain the project belongs to (name or ID)
        #[arg(long)]
        project_domain: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RemoveCommand {
    /// Disassociate project with image
    Project {
        /// Image to unshare (name or ID)
        image: String,
        /// Project to disassociate with image (name or ID)
        project: String,
        /// Domain the project belongs to (name or ID)
        #[arg(long)]
        project_domain: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List projects associated with image
    List {
        /// Image (name or ID)
        image: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a particular project associated with image
    Get {
        /// Image (name or ID)
        image: String,
        /// Project to show (name or ID)
        project: String,
        /// Domain the project belongs to (name or ID)
        #[arg(long)]
        project_domain: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoresCommand {
    /// Get available backends (only valid with multi-store support)
    #[command(visible_alias = "info")]
    List {
        /// Shows details of stores (admin only)
        #[arg(long)]
        detail: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// List tasks
    List {
        /// Sort by created_at, expires_at, id, status, type or updated_at
        #[arg(long, value_name = "KEY")]
        sort_key: Option<String>,
        /// Sort direction (asc or desc)
        #[arg(long, value_name = "DIRECTION")]
        sort_dir: Option<String>,
        /// The maximum number of entries to return
        #[arg(long)]
        limit: Option<u32>,
        /// The task ID after which the list starts
        #[arg(long)]
        marker: Option<String>,
        /// Filters the response by a task type
        #[arg(long = "type", value_parser = ["import"])]
        task_type: Option<String>,
        /// Filter tasks based on status
        #[arg(long, value_parser = ["pending", "processing", "success", "failure"])]
        status: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Display task details
    Show {
        /// Task to display (ID)
        task: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue new token (checks that the credentials work)
    Issue {
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `image list`: Glance's filters and paging, then openstackclient's property filter and sort.
pub async fn list(g: &GlobalArgs, a: ListArgs, out: &mut dyn Write) -> Result<(), Error> {
    let sort = parse_sort(&a.sort)?;
    let (s, _) = session(g)?;
    let owner = match &a.project {
        Some(p) => Some(projects::resolve_id(&s, p, a.project_domain.as_deref()).await?),
        None => None,
    };
    let marker = match &a.marker {
        Some(m) => Some(s.images().find(m).await?.id().to_owned()),
        None => None,
    };
    let query = ImageQuery {
        visibility: pick(&[
            ("public", a.public),
            ("private", a.private),
            ("community", a.community),
            ("shared", a.shared),
            ("all", a.all),
        ]),
        name: a.name.clone(),
        status: a.status.clone(),
        member_status: a.member_status.clone(),
        owner,
        tags: a.tags.clone(),
        hidden: a.hidden,
        limit: a.limit,
        marker,
        one_page: a.limit.is_some(),
        max_items: a.max_items,
    };
    let mut images = s.images().list_where(&query).await?;
    for (k, v) in &a.properties {
        keep_matching(&mut images, k, v);
    }
    sort_images(&mut images, &sort);
    let (headers, keys): (&[&str], &[&str]) = if a.long {
        (
            &[
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
            ],
            &[
                "id",
                "name",
                "disk_format",
                "container_format",
                "size",
                "checksum",
                "status",
                "visibility",
                "protected",
                "owner",
                "os_hash_algo",
                "os_hash_value",
                "tags",
            ],
        )
    } else {
        (&["ID", "Name", "Status"], &["id", "name", "status"])
    };
    let rows: Vec<Vec<Value>> = images
        .iter()
        .map(|i| {
            let m = i.to_map();
            keys.iter().map(|k| m.get(*k).cloned().unwrap_or(Value::Null)).collect()
        })
        .collect();
    output::show_list(out, headers, &rows, &a.output).map_err(io)
}

/// `image show [--human-readable] IMAGE`.
pub async fn show(
    g: &GlobalArgs,
    image: String,
    human: bool,
    output: OutputArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let img = s.images().find(&image).await?;
    let mut fields = img.fields();
    if human {
        for (k, v) in &mut fields {
            if k == "size" {
                *v = json!(human_size(img.size().unwrap_or(0)));
            }
        }
    }
    output::show_one(out, &fields, &output).map_err(io)
}

/// openstackclient's `--human-readable` size: powers of 1000, one decimal, no trailing zero.
pub fn human_size(n: u64) -> String {
    const SUFFIX: [&str; 8] = ["", "K", "M", "G", "T", "P", "E", "Z"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < SUFFIX.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let s = format!("{v:.1}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{}", SUFFIX[i])
}

/// `image set`: activation, membership, then one PATCH with what changes.
pub async fn set(g: &GlobalArgs, a: SetArgs) -> Result<(), Error> {
    if a.visibility.is_some() {
        return Err(Error::Usage(
            "--visibility is an Image v1 option that Image v2 does not take: use --public, --private, --community \
             or --shared"
                .into(),
        ));
    }
    let (s, _) = session(g)?;
    let img = s.images().find(&a.image).await?;
    let project = match &a.project {
        Some(p) => Some(projects::resolve_id(&s, p, a.project_domain.as_deref()).await?),
        None => None,
    };
    if a.deactivate {
        s.images().deactivate(img.id()).await?;
    }
    if a.activate {
        s.images().reactivate(img.id()).await?;
    }
    if let Some(status) = a.membership() {
        let member = match &project {
            Some(p) => p.clone(),
            None => s.token().await?.project_id.ok_or_else(|| {
                Error::Usage(
                    "the token is not scoped to a project: give --project with --accept/--reject/--pending".into(),
                )
            })?,
        };
        s.images().set_member_status(img.id(), &member, status).await?;
    }
    let mut edit = a.edit();
    if a.membership().is_none() {
        edit.owner = project;
    }
    if !edit.is_empty() {
        // Read again after (de)activation, so that the change is computed against the image as
        // it now is.
        let now = if a.deactivate || a.activate { s.images().get(img.id()).await? } else { img };
        s.images().update(&now, &edit).await?;
    }
    Ok(())
}

/// `image unset --tag T --property K`: every key must be on the image (nothing is changed when
/// one is not), then one PATCH.
pub async fn unset(g: &GlobalArgs, image: String, tags: Vec<String>, properties: Vec<String>) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let img = s.images().find(&image).await?;
    let edit = ImageEdit { remove_tags: tags, remove_properties: properties, ..Default::default() };
    s.images().update(&img, &edit).await?;
    Ok(())
}

/// `image add project IMAGE PROJECT`.
pub async fn add_project(
    g: &GlobalArgs,
    image: String,
    project: String,
    domain: Option<String>,
    output: OutputArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let project = projects::resolve_id(&s, &project, domain.as_deref()).await?;
    let img = s.images().find(&image).await?;
    let m = s.images().add_member(img.id(), &project).await?;
    output::show_one(out, &m.fields(), &output).map_err(io)
}

/// `image remove project IMAGE PROJECT`.
pub async fn remove_project(
    g: &GlobalArgs,
    image: String,
    project: String,
    domain: Option<String>,
) -> Result<(), Error> {
    let (s, _) = session(g)?;
    let project = projects::resolve_id(&s, &project, domain.as_deref()).await?;
    let img = s.images().find(&image).await?;
    s.images().remove_member(img.id(), &project).await?;
    Ok(())
}

/// `image member list IMAGE` and `image member get IMAGE PROJECT`.
pub async fn member(g: &GlobalArgs, cmd: MemberCommand, out: &mut dyn Write) -> Result<(), Error> {
    let (s, _) = session(g)?;
    match cmd {
        MemberCommand::List { image, output } => {
            let img = s.images().find(&image).await?;
            let rows: Vec<Vec<Value>> = s
                .images()
                .members(img.id())
                .await?
                .into_iter()
                .map(|m| vec![json!(m.image_id), json!(m.member_id), json!(m.status)])
                .collect();
            output::show_list(out, &["Image ID", "Member ID", "Status"], &rows, &output).map_err(io)
        }
        MemberCommand::Get { image, project, project_domain, output } => {
            let img = s.images().find(&image).await?;
            let project = projects::resolve_id(&s, &project, project_domain.as_deref()).await?;
            let m = s.images().member(img.id(), &project).await?;
            output::show_one(out, &m.fields(), &output).map_err(io)
        }
    }
}

/// `image save IMAGE [--file PATH]`: streamed, verified, resumable.
pub async fn save(g: &GlobalArgs, a: SaveArgs) -> Result<(), Error> {
    let to_stdout = a.file.is_none();
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(Error::Usage("the image data would go to the terminal: give --file, or redirect stdout".into()));
    }
    let (s, _) = session(g)?;
    let img = s.images().find(&a.image).await?;
    let cancel = CancellationToken::new();
    super::image::watch_signals(cancel.clone(), "cli.cancelling_download");
    let show = a.progress || std::io::stderr().is_terminal();
    let opts = SaveOptions {
        progress: show.then(progress::terminal_bar),
        cancel,
        resume_partial: !a.no_resume,
        ..Default::default()
    };
    let target = match &a.file {
        Some(f) => Target::File(f.clone()),
        None => Target::Stream(Box::new(raw_stdout().map_err(io)?)),
    };
    let saved = download::save(&s, &img, target, &opts).await;
    if show {
        eprintln!();
    }
    let saved = saved?;
    if saved.resumed_from > 0 || saved.resumes > 0 {
        eprintln!(
            "stackdrop: {}",
            stackdrop::i18n::tf(
                "cli.save.resumed",
                &[("from", &progress::bytes(saved.resumed_from)), ("n", &saved.resumes)]
            )
        );
    }
    Ok(())
}

/// Standard output as a file of its own (the same descriptor, duplicated): the download's
/// writer thread writes the data there without the lock `run` holds on `std::io::stdout()`,
/// and without its line buffering.
fn raw_stdout() -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    let owned = std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned()?;
    #[cfg(windows)]
    let owned = std::os::windows::io::AsHandle::as_handle(&std::io::stdout()).try_clone_to_owned()?;
    Ok(std::fs::File::from(owned))
}

/// `image stage IMAGE --file F`: glance-direct's first half (`image import` is the second).
pub async fn stage(g: &GlobalArgs, a: StageArgs) -> Result<(), Error> {
    let Some(path) = a.file.clone() else {
        return Err(Error::Usage("give the data with --file (Stackdrop does not read image data from stdin)".into()));
    };
    let (s, _) = session(g)?;
    let img = s.images().find(&a.image).await?;
    let (file, meta) = stackdrop::safe_fs::open_regular(&path)
        .map_err(|e| Error::File { path: path.display().to_string(), detail: e.to_string() })?;
    let len = meta.len();
    if let Some(size) = a.size {
        if size != len {
            return Err(Error::Usage(format!("--size {size} differs from the file's {len} bytes")));
        }
    }
    let body = stackdrop::upload::stream::file_body(file, len);
    let ticker = a.progress.then(|| {
        let bar = progress::terminal_bar();
        let sent = body.sent.clone();
        let id = img.id().to_owned();
        tokio::spawn(async move {
            loop {
                let n = sent.load(std::sync::atomic::Ordering::Relaxed);
                bar(&stackdrop::upload::Progress {
                    phase: stackdrop::upload::Phase::Uploading,
                    image_id: Some(id.clone()),
                    sent: n,
                    total: len,
                    rate: 0.0,
                    eta_secs: None,
                    server_status: None,
                });
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });
    let r = s.images().stage(&img, body.body, len).await;
    if let Some(t) = ticker {
        t.abort();
        eprintln!();
    }
    r?;
    Ok(())
}

/// `image import IMAGE --method …`: openstackclient's checks, then `POST …/import`;
/// `--wait` follows the import to its end.
pub async fn import(g: &GlobalArgs, a: ImportArgs, out: &mut dyn Write) -> Result<(), Error> {
    let method = match a.method.as_str() {
        "glance-direct" => ImportMethod::GlanceDirect,
        "copy-image" => ImportMethod::CopyImage,
        "web-download" => match &a.uri {
            Some(uri) => ImportMethod::WebDownload { uri: uri.clone() },
            None => {
                return Err(Error::Usage("the '--uri' option is required when using '--method=web-download'".into()))
            }
        },
        _ => {
            return Err(Error::Usage(
                "the glance-download import method is not supported by Stackdrop (use image copy between clouds)"
                    .into(),
            ))
        }
    };
    if a.uri.is_some() && !matches!(method, ImportMethod::WebDownload { .. }) {
        return Err(Error::Usage("the '--uri' option is only supported when using '--method=web-download'".into()));
    }
    if a.remote_image.is_some() || a.remote_region.is_some() || a.remote_service_interface.is_some() {
        return Err(Error::Usage("the '--remote-*' options go with '--method=glance-download'".into()));
    }
    if matches!(method, ImportMethod::CopyImage) && a.stores.is_empty() && !a.all_stores {
        return Err(Error::Usage(
            "the '--store' or '--all-stores' options are required when using '--method=copy-image'".into(),
        ));
    }
    let (s, _) = session(g)?;
    let img = s.images().find(&a.image).await?;
    let wanted = match method {
        ImportMethod::GlanceDirect => ImageStatus::Uploading,
        ImportMethod::WebDownload { .. } => ImageStatus::Queued,
        ImportMethod::CopyImage => ImageStatus::Active,
    };
    if img.status != wanted {
        return Err(Error::Usage(format!(
            "the '{}' import method can only be used with an image in status '{wanted}' (image {} is '{}')",
            method.name(),
            img.id(),
            img.status()
        )));
    }
    let import = Import { method, stores: a.stores, all_stores: a.all_stores, allow_failure: !a.disallow_failure };
    stackdrop::openstack::image::import::check_offered(&s, &import).await?;
    s.images().import(img.id(), import.body()).await?;
    let shown = if a.wait {
        stackdrop::openstack::image::import::wait_import(&s, img.id(), Duration::from_secs(3600), &import, &|_| {})
            .await?
    } else {
        img
    };
    output::show_one(out, &shown.fields(), &a.output).map_err(io)
}

/// `image stores list [--detail]`.
pub async fn stores(g: &GlobalArgs, cmd: StoresCommand, out: &mut dyn Write) -> Result<(), Error> {
    let StoresCommand::List { detail, output } = cmd;
    let (s, _) = session(g)?;
    let Some(stores) = s.images().stores_info(detail).await? else {
        return Err(Error::Usage("multi-store support is not enabled in this cloud's Glance".into()));
    };
    let mut headers = vec!["ID", "Description", "Default"];
    if detail {
        headers.push("Properties");
    }
    let rows: Vec<Vec<Value>> = stores
        .into_iter()
        .map(|st| {
            let mut r =
                vec![json!(st.id), json!(st.description), if st.is_default { json!(true) } else { Value::Null }];
            if detail {
                r.push(st.properties.unwrap_or(Value::Null));
            }
            r
        })
        .collect();
    output::show_list(out, &headers, &rows, &output).map_err(io)
}

/// `image task list` and `image task show`.
pub async fn task(g: &GlobalArgs, cmd: TaskCommand, out: &mut dyn Write) -> Result<(), Error> {
    let (s, _) = session(g)?;
    match cmd {
        TaskCommand::List { sort_key, sort_dir, limit, marker, task_type, status, output } => {
            let limit = limit.map(|l| l.to_string());
            let mut q: Vec<(&str, &str)> = Vec::new();
            for (k, v) in [
                ("sort_key", &sort_key),
                ("sort_dir", &sort_dir),
                ("limit", &limit),
                ("marker", &marker),
                ("type", &task_type),
                ("status", &status),
            ] {
                if let Some(v) = v {
                    q.push((k, v));
                }
            }
            let rows: Vec<Vec<Value>> = s
                .images()
                .tasks(&q)
                .await?
                .iter()
                .map(|t| {
                    ["id", "type", "status", "owner"]
                        .iter()
                        .map(|k| t.get(*k).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect();
            output::show_list(out, &["ID", "Type", "Status", "Owner"], &rows, &output).map_err(io)
        }
        TaskCommand::Show { task, output } => {
            let t = s.images().task(&task).await?;
            output::show_one(out, &task_fields(&t), &output).map_err(io)
        }
    }
}

/// `token issue`: a new token from the credentials (so a wrong password shows here), with
/// openstackclient's fields.
pub async fn token(g: &GlobalArgs, cmd: TokenCommand, out: &mut dyn Write) -> Result<(), Error> {
    let TokenCommand::Issue { output } = cmd;
    let (s, _) = session(g)?;
    let t = s.reauthenticate().await?;
    let expires = t
        .expires_at
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000"))
        .unwrap_or_default();
    let mut fields = vec![("expires".to_string(), json!(expires)), ("id".to_string(), json!(t.value.expose()))];
    if let Some(p) = &t.project_id {
        fields.push(("project_id".into(), json!(p)));
    }
    if let Some(u) = &t.user_id {
        fields.push(("user_id".into(), json!(u)));
    }
    output::show_one(out, &fields, &output).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_as_openstackclient_prints_them() {
        assert_eq!(human_size(3_000_000), "3M");
        assert_eq!(human_size(12_716_032), "12.7M");
        assert_eq!(human_size(999), "999");
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(1_500_000_000), "1.5G");
    }
}
