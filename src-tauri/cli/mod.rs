//! `stackdrop image create|list|show|delete`, with openstackclient's flags and output formats.

pub mod docs;
mod error;
mod image;
mod manage;
pub mod output;
pub mod profile;
pub mod progress;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};
use serde_json::{json, Map, Value};

use output::OutputArgs;
use stackdrop::i18n::Localized;
use stackdrop::openstack::image::import::{Import, ImportMethod};
use stackdrop::openstack::Session;

pub use error::{io, Error};
use stackdrop::upload::ImageSpec;

#[derive(Debug, Parser)]
#[command(name = "stackdrop", version, about = "Put disk images into OpenStack Glance", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The cloud to use: `--os-cloud` / `OS_CLOUD`, or the `OS_*` variables; flags override both.
/// Each flag may come before or after the command; `stackdrop --help` describes them once,
/// each command's help lists its own options.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Cloud options (any command)")]
pub struct GlobalArgs {
    /// A Stackdrop profile, or a cloud in clouds.yaml [env: OS_CLOUD]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_cloud: Option<String>,
    /// Keystone's address [env: OS_AUTH_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub os_auth_url: Option<String>,
    /// password, v3applicationcredential or token [env: OS_AUTH_TYPE]
    #[arg(long, global = true, value_name = "TYPE")]
    pub os_auth_type: Option<String>,
    /// User name [env: OS_USERNAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_username: Option<String>,
    /// User id [env: OS_USER_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub os_user_id: Option<String>,
    #[arg(long, global = true, hide = true)]
    pub os_password: Option<String>,
    /// Project to scope to, by name [env: OS_PROJECT_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_project_name: Option<String>,
    /// Project to scope to, by id [env: OS_PROJECT_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub os_project_id: Option<String>,
    /// The user's domain, by name [env: OS_USER_DOMAIN_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_user_domain_name: Option<String>,
    /// The user's domain, by id [env: OS_USER_DOMAIN_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub os_user_domain_id: Option<String>,
    /// The project's domain, by name [env: OS_PROJECT_DOMAIN_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_project_domain_name: Option<String>,
    /// The project's domain, by id [env: OS_PROJECT_DOMAIN_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub os_project_domain_id: Option<String>,
    /// Application credential id [env: OS_APPLICATION_CREDENTIAL_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub os_application_credential_id: Option<String>,
    /// Application credential name (with the user) [env: OS_APPLICATION_CREDENTIAL_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub os_application_credential_name: Option<String>,
    #[arg(long, global = true, hide = true)]
    pub os_application_credential_secret: Option<String>,
    #[arg(long, global = true, hide = true)]
    pub os_token: Option<String>,
    /// Region of the image endpoint [env: OS_REGION_NAME]
    #[arg(long, global = true, value_name = "REGION")]
    pub os_region_name: Option<String>,
    /// public, internal or admin [env: OS_INTERFACE]
    #[arg(long, global = true, value_name = "INTERFACE")]
    pub os_interface: Option<String>,
    /// Use this image endpoint instead of the catalog's
    #[arg(long, global = true, visible_alias = "os-image-url", value_name = "URL")]
    pub os_image_endpoint_override: Option<String>,
    /// CA bundle (PEM) to verify the cloud's certificates [env: OS_CACERT]
    #[arg(long, global = true, value_name = "FILE")]
    pub os_cacert: Option<String>,
    /// Client certificate (PEM) [env: OS_CERT]
    #[arg(long, global = true, value_name = "FILE")]
    pub os_cert: Option<String>,
    /// The client certificate's key (PEM) [env: OS_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub os_key: Option<String>,
    /// Do not verify TLS certificates
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Log each request (method, URL, status, time; never secrets) to stderr
    #[arg(long, global = true)]
    pub debug: bool,
}

/// The command line as parsed and as its help shows it: the cloud options (global) are
/// described once, in `stackdrop --help`; each command's help lists its own options and one
/// line pointing there. (Each command gets the global options as hidden copies, which clap
/// then does not propagate over.)
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    fn hide_globals(cmd: clap::Command, globals: &[clap::Arg]) -> clap::Command {
        let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
        let mut cmd = cmd;
        for name in subs {
            cmd = cmd.mut_subcommand(&name, |sc| {
                let sc = sc
                    .args(globals.iter().map(|a| a.clone().hide(true)))
                    .after_help("Cloud options (--os-cloud, --os-auth-url, --insecure, --debug, …): stackdrop --help");
                hide_globals(sc, globals)
            });
        }
        cmd
    }
    let root = Cli::command();
    let globals: Vec<clap::Arg> = root.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    hide_globals(root, &globals)
}

impl GlobalArgs {
    /// The flags as a clouds.yaml-shaped value, to lay over the chosen cloud.
    pub fn overrides(&self) -> Value {
        let mut auth = Map::new();
        let mut top = Map::new();
        let put = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        };
        put(&mut auth, "auth_url", &self.os_auth_url);
        put(&mut auth, "username", &self.os_username);
        put(&mut auth, "user_id", &self.os_user_id);
        put(&mut auth, "password", &self.os_password);
        put(&mut auth, "project_name", &self.os_project_name);
        put(&mut auth, "project_id", &self.os_project_id);
        put(&mut auth, "user_domain_name", &self.os_user_domain_name);
        put(&mut auth, "user_domain_id", &self.os_user_domain_id);
        put(&mut auth, "project_domain_name", &self.os_project_domain_name);
        put(&mut auth, "project_domain_id", &self.os_project_domain_id);
        put(&mut auth, "application_credential_id", &self.os_application_credential_id);
        put(&mut auth, "application_credential_name", &self.os_application_credential_name);
        put(&mut auth, "application_credential_secret", &self.os_application_credential_secret);
        put(&mut auth, "token", &self.os_token);
        put(&mut top, "auth_type", &self.os_auth_type);
        put(&mut top, "region_name", &self.os_region_name);
        put(&mut top, "interface", &self.os_interface);
        put(&mut top, "image_endpoint_override", &self.os_image_endpoint_override);
        put(&mut top, "cacert", &self.os_cacert);
        put(&mut top, "cert", &self.os_cert);
        put(&mut top, "key", &self.os_key);
        if self.insecure {
            top.insert("verify".into(), json!(false));
        }
        if !auth.is_empty() {
            top.insert("auth".into(), Value::Object(auth));
        }
        Value::Object(top)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Images in Glance
    #[command(subcommand)]
    Image(ImageCommand),
    /// Stackdrop's cloud profiles (secrets in the OS keyring)
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Keystone tokens
    #[command(subcommand)]
    Token(manage::TokenCommand),
    /// Print a shell completion script (bash, zsh, fish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (stackdrop.1 and one per command) into a directory
    Man {
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Create an image and upload its data (like `openstack image create`)
    Create(Box<CreateArgs>),
    /// List available images
    List(Box<manage::ListArgs>),
    /// Display image details
    Show {
        /// Image to display (name or ID)
        image: String,
        /// Print image size in a human-friendly format
        #[arg(long)]
        human_readable: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Set image properties
    Set(Box<manage::SetArgs>),
    /// Unset image tags and properties
    Unset {
        /// Image to modify (name or ID)
        image: String,
        /// Unset a tag on this image (repeat option to unset multiple tags)
        #[arg(long = "tag", value_name = "TAG", action = ArgAction::Append)]
        tags: Vec<String>,
        /// Unset a property on this image (repeat option to unset multiple properties)
        #[arg(long = "property", value_name = "PROPERTY_KEY", action = ArgAction::Append)]
        properties: Vec<String>,
    },
    /// Save an image locally (verified against Glance's checksums; resumable)
    Save(Box<manage::SaveArgs>),
    /// Copy an image to other clouds or regions, Glance to Glance (no temporary file)
    Copy(Box<CopyArgs>),
    /// Upload data for a specific image to staging (interoperable import, then `image import`)
    Stage(Box<manage::StageArgs>),
    /// Initiate the image import process (glance-direct, web-download, copy-image)
    Import(Box<manage::ImportArgs>),
    /// Associate a project with an image (`image add project IMAGE PROJECT`)
    #[command(subcommand)]
    Add(manage::ProjectCommand),
    /// Disassociate a project from an image (`image remove project IMAGE PROJECT`)
    #[command(subcommand)]
    Remove(manage::RemoveCommand),
    /// The projects an image is shared with
    #[command(subcommand)]
    Member(manage::MemberCommand),
    /// Glance's stores (multi-store clouds)
    #[command(subcommand)]
    Stores(manage::StoresCommand),
    /// Glance's import tasks
    #[command(subcommand)]
    Task(manage::TaskCommand),
    /// Read a local disk image's headers: format, virtual size, and whether Glance would take it
    Inspect {
        /// Local file
        path: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete image(s)
    Delete {
        /// Image(s) to delete (name or ID)
        #[arg(required = true)]
        images: Vec<String>,
    },
}

/// Target stores of an import.
#[derive(Debug, Clone, Args, Default)]
pub struct StoreArgs {
    /// Store to import into (repeat for several)
    #[arg(long = "store", value_name = "STORE", action = ArgAction::Append)]
    pub stores: Vec<String>,
    /// Import into every store
    #[arg(long, conflicts_with = "stores")]
    pub all_stores: bool,
    /// Succeed even if some stores fail
    #[arg(long)]
    pub allow_failure: bool,
}

impl StoreArgs {
    fn import(&self, method: ImportMethod) -> Import {
        Import { method, stores: self.stores.clone(), all_stores: self.all_stores, allow_failure: self.allow_failure }
    }

    fn given(&self) -> bool {
        !self.stores.is_empty() || self.all_stores || self.allow_failure
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// New image name (default: the file's name without its extension)
    pub name: Option<String>,
    /// Local file with the image data; repeat it, or give a directory, to upload several
    /// (each image is then named after its file)
    #[arg(long, value_name = "FILE", action = ArgAction::Append)]
    pub file: Vec<PathBuf>,
    /// How many of several files upload at the same time
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub parallel: u16,
    /// Image id to reserve
    #[arg(long)]
    pub id: Option<String>,
    /// Disk format (raw, qcow2, vmdk, vhd, vhdx, vdi, iso, ploop, ami, ari, aki); default: what
    /// the file's headers say (openstackclient assumes raw)
    #[arg(long)]
    pub disk_format: Option<String>,
    /// Container format (bare, ovf, ova, docker, ami, ari, aki)
    #[arg(long, default_value = "bare")]
    pub container_format: String,
    #[arg(long)]
    pub min_disk: Option<u64>,
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Everyone can see and use it (admin only by default policy)
    #[arg(long, group = "visibility")]
    pub public: bool,
    #[arg(long, group = "visibility")]
    pub private: bool,
    #[arg(long, group = "visibility")]
    pub community: bool,
    #[arg(long, group = "visibility")]
    pub shared: bool,
    #[arg(long, conflicts_with = "unprotected")]
    pub protected: bool,
    #[arg(long)]
    pub unprotected: bool,
    /// Custom property KEY=VALUE (repeat)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property, action = ArgAction::Append)]
    pub properties: Vec<(String, String)>,
    /// Tag (repeat)
    #[arg(long = "tag", action = ArgAction::Append)]
    pub tags: Vec<String>,
    /// Owner project, by id or name (admin only)
    #[arg(long)]
    pub project: Option<String>,
    /// Domain of --project when given by name
    #[arg(long)]
    pub project_domain: Option<String>,
    /// Draw a progress bar even when stderr is not a terminal
    #[arg(long)]
    pub progress: bool,
    /// Keep the image when the upload fails or is cancelled (default: delete it)
    #[arg(long)]
    pub keep_on_failure: bool,
    /// Declare --disk-format raw for data of another format (Glance accepts raw for anything)
    #[arg(long)]
    pub force: bool,
    /// Use Glance's interoperable import (glance-direct: stage, then import)
    #[arg(long)]
    pub import: bool,
    /// Turn a raw disk into this format while it streams (qcow2): only the clusters that hold
    /// data are sent, the image is created as qcow2. Not for clouds that want raw images (Ceph
    /// copy-on-write clones)
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["import", "uri", "no_convert"])]
    pub convert: Option<stackdrop::convert::Format>,
    /// With --convert: deflate each cluster as well (zlib, as `qemu-img convert -c` writes
    /// them): fewer bytes to send, more CPU here (each cluster is deflated twice) and in the
    /// cloud's hosts when they read it
    #[arg(long, requires = "convert")]
    pub compress: bool,
    /// Send a raw disk as it is, even when the profile converts raw disks
    #[arg(long)]
    pub no_convert: bool,
    /// The profile's default conversion, for raw files only (set from the profile, no flag)
    #[arg(skip)]
    pub profile_convert: Option<stackdrop::convert::Format>,
    /// Seconds to wait for Glance to make the image active after the data is in
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub wait_timeout: u64,
    /// Let Glance download the image from this URL (web-download import; no --file)
    #[arg(long, value_name = "URL", conflicts_with_all = ["file", "import"])]
    pub uri: Option<String>,
    /// Also upload to this cloud (a profile or clouds.yaml name), or to one of its regions
    /// (CLOUD:REGION); repeat for more. The file is read and hashed once and streams to
    /// --os-cloud and every --to at the same time; each image is verified on its own
    #[arg(long = "to", value_name = "CLOUD[:REGION]", value_parser = parse_target, action = ArgAction::Append, conflicts_with_all = ["uri", "import"])]
    pub to: Vec<(String, Option<String>)>,
    /// With --to: when one target fails, remove the images the others made (default: keep
    /// what succeeded and report the failure)
    #[arg(long, requires = "to")]
    pub all_or_nothing: bool,
    #[command(flatten)]
    pub stores: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Image to copy (name or ID), in --os-cloud
    pub image: String,
    /// Copy to this cloud (a profile or clouds.yaml name), or to one of its regions
    /// (CLOUD:REGION); repeat for more. The data streams from --os-cloud's Glance to every
    /// --to at the same time, checked against the source's checksums on the way
    #[arg(long = "to", value_name = "CLOUD[:REGION]", value_parser = parse_target, action = ArgAction::Append, required = true)]
    pub to: Vec<(String, Option<String>)>,
    /// Name of the copies (default: the source's name)
    #[arg(long)]
    pub name: Option<String>,
    /// Make the copies public (default: the source's visibility)
    #[arg(long, group = "visibility")]
    pub public: bool,
    #[arg(long, group = "visibility")]
    pub private: bool,
    #[arg(long, group = "visibility")]
    pub community: bool,
    #[arg(long, group = "visibility")]
    pub shared: bool,
    /// Copy even where an image with the same data is already there (found by
    /// owner_specified.openstack.sha256, or the source's os_hash_value)
    #[arg(long)]
    pub force: bool,
    /// When one target fails, remove the copies the others made
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Draw progress lines even when stderr is not a terminal
    #[arg(long)]
    pub progress: bool,
    /// Keep a copy whose upload failed or was cancelled (default: delete it)
    #[arg(long)]
    pub keep_on_failure: bool,
    /// Seconds to wait for each Glance to make its copy active after the data is in
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub wait_timeout: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl CopyArgs {
    pub fn visibility(&self) -> Option<String> {
        manage::pick(&[
            ("public", self.public),
            ("private", self.private),
            ("community", self.community),
            ("shared", self.shared),
        ])
    }
}

/// `--to CLOUD[:REGION]`.
pub(crate) fn parse_target(s: &str) -> Result<(String, Option<String>), String> {
    match s.split_once(':') {
        None if !s.is_empty() => Ok((s.to_owned(), None)),
        Some((c, r)) if !c.is_empty() && !r.is_empty() => Ok((c.to_owned(), Some(r.to_owned()))),
        _ => Err(format!("'{s}' is not CLOUD or CLOUD:REGION")),
    }
}

pub(crate) fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

impl CreateArgs {
    /// The files to upload: each `--file`, a directory standing for the disk images in it.
    pub fn files(&self) -> Result<Vec<PathBuf>, Error> {
        let mut out = Vec::new();
        for f in &self.file {
            if f.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(f)
                    .map_err(|e| Error::File { path: f.display().to_string(), detail: e.to_string() })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && stackdrop::upload::local::is_image_extension(p))
                    .collect();
                found.sort();
                if found.is_empty() {
                    return Err(Error::File {
                        path: f.display().to_string(),
                        detail:
                            "the directory holds no disk images (.qcow2, .img, .raw, .vmdk, .vhd, .vhdx, .vdi, .iso)"
                                .into(),
                    });
                }
                out.extend(found);
            } else {
                out.push(f.clone());
            }
        }
        Ok(out)
    }

    pub fn spec(&self) -> ImageSpec {
        let visibility = manage::pick(&[
            ("public", self.public),
            ("private", self.private),
            ("community", self.community),
            ("shared", self.shared),
        ]);
        ImageSpec {
            name: self.name.clone().unwrap_or_default(),
            id: self.id.clone(),
            disk_format: self.disk_format.clone().unwrap_or_default(),
            container_format: self.container_format.clone(),
            visibility,
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            protected: if self.protected {
                Some(true)
            } else if self.unprotected {
                Some(false)
            } else {
                None
            },
            tags: self.tags.clone(),
            properties: self.properties.clone(),
            owner: None,
        }
    }
}

/// An inspection as fields: format, sizes, verdict, then the format's own details.
pub fn inspection_fields(i: &stackdrop::inspect::Inspection) -> Vec<(String, Value)> {
    let mut f = vec![
        ("format".to_string(), json!(i.format)),
        ("virtual_size".to_string(), json!(i.virtual_size)),
        ("file_size".to_string(), json!(i.file_size)),
        ("verdict".to_string(), json!(if i.acceptable() { "acceptable" } else { "refused" })),
        ("reasons".to_string(), json!(i.refusals)),
    ];
    let details: Map<String, Value> = i.details.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    f.push(("details".to_string(), Value::Object(details)));
    f
}

/// Entry point of the CLI: parse, run, print one clear line on failure.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let parsed = command().try_get_matches_from(args).and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    stackdrop::i18n::init_from_env();
    // openstackclient takes these too; say once what that costs.
    let g = &cli.global;
    for (flag, given) in [
        ("--os-password", g.os_password.is_some()),
        ("--os-application-credential-secret", g.os_application_credential_secret.is_some()),
        ("--os-token", g.os_token.is_some()),
    ] {
        if given {
            eprintln!("stackdrop: {}", stackdrop::i18n::tf("cli.secret_in_args", &[("flag", &flag)]));
        }
    }
    if cli.global.debug {
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::DEBUG).init();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stackdrop: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stackdrop: {}", e.localized());
            ExitCode::from(if e.is_cancelled() { 130 } else { 1 })
        }
    }
}

/// The session for `--os-cloud` / `OS_CLOUD` / `OS_*`: a profile first (its secret from the
/// keyring, or asked on the terminal; its token kept in the keyring), else clouds.yaml.
/// Also the profile's upload defaults.
fn session(g: &GlobalArgs) -> Result<(Session, stackdrop::config::profiles::UploadDefaults), Error> {
    // Files, the keyring and maybe a terminal prompt: blocking work, told to the runtime.
    tokio::task::block_in_place(|| open_session(g))
}

/// The session for another cloud named on the command line (`--to CLOUD[:REGION]`): its own
/// settings (a profile, or clouds.yaml), only the region taken from the flag; none of the
/// `--os-*` flags, which describe --os-cloud.
fn target_session(cloud: &str, region: Option<&str>) -> Result<Session, Error> {
    let overrides = match region {
        Some(r) => serde_json::json!({ "region_name": r }),
        None => serde_json::json!({}),
    };
    tokio::task::block_in_place(|| open_cloud(Some(cloud), &overrides)).map(|(s, _)| s)
}

fn open_session(g: &GlobalArgs) -> Result<(Session, stackdrop::config::profiles::UploadDefaults), Error> {
    open_cloud(g.os_cloud.as_deref(), &g.overrides())
}

/// A cloud found as openstackclient finds it (a profile first), `overrides` on top; its wire
/// warnings said on stderr; its session and the profile's upload defaults.
fn open_cloud(
    cloud: Option<&str>,
    overrides: &Value,
) -> Result<(Session, stackdrop::config::profiles::UploadDefaults), Error> {
    use stackdrop::config::{self, process_env, ProfileStore, Secrets};
    let store = ProfileStore::default_location(&process_env);
    let secrets = Secrets::for_store(&store);
    let opened = config::open(cloud, overrides, &process_env, &store, &secrets, Some(&profile::ask_on_terminal))?;
    let defaults = opened.profile.as_ref().map(|p| p.defaults.clone()).unwrap_or_default();
    for w in opened.cloud.wire_warnings() {
        eprintln!("stackdrop: {}", stackdrop::i18n::tf("cli.warning", &[("message", &w.localized())]));
    }
    Ok((config::session(opened, &secrets)?, defaults))
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let g = &cli.global;
    match cli.command {
        Command::Profile(cmd) => profile::run(cmd, g, &mut out).await,
        Command::Completions { shell } => out.write_all(&docs::completions(shell)).map_err(io),
        Command::Man { dir } => {
            let n = docs::write_man_pages(&dir)
                .map_err(|e| Error::File { path: dir.display().to_string(), detail: e.to_string() })?;
            eprintln!("{}", stackdrop::i18n::tf("cli.man_written", &[("n", &n), ("dir", &dir.display())]));
            Ok(())
        }
        Command::Image(ImageCommand::Create(args)) => image::create(g, *args, &mut out).await,
        Command::Image(ImageCommand::List(args)) => manage::list(g, *args, &mut out).await,
        Command::Image(ImageCommand::Show { image, human_readable, output }) => {
            manage::show(g, image, human_readable, output, &mut out).await
        }
        Command::Image(ImageCommand::Set(args)) => manage::set(g, *args).await,
        Command::Image(ImageCommand::Unset { image, tags, properties }) => {
            manage::unset(g, image, tags, properties).await
        }
        Command::Image(ImageCommand::Save(args)) => manage::save(g, *args).await,
        Command::Image(ImageCommand::Copy(args)) => image::copy(g, *args, &mut out).await,
        Command::Image(ImageCommand::Stage(args)) => manage::stage(g, *args).await,
        Command::Image(ImageCommand::Import(args)) => manage::import(g, *args, &mut out).await,
        Command::Image(ImageCommand::Add(manage::ProjectCommand::Project {
            image,
            project,
            project_domain,
            output,
        })) => manage::add_project(g, image, project, project_domain, output, &mut out).await,
        Command::Image(ImageCommand::Remove(manage::RemoveCommand::Project { image, project, project_domain })) => {
            manage::remove_project(g, image, project, project_domain).await
        }
        Command::Image(ImageCommand::Member(cmd)) => manage::member(g, cmd, &mut out).await,
        Command::Image(ImageCommand::Stores(cmd)) => manage::stores(g, cmd, &mut out).await,
        Command::Image(ImageCommand::Task(cmd)) => manage::task(g, cmd, &mut out).await,
        Command::Token(cmd) => manage::token(g, cmd, &mut out).await,
        Command::Image(ImageCommand::Inspect { path, output }) => image::inspect(path, output, &mut out),
        Command::Image(ImageCommand::Delete { images }) => image::delete(g, images, &mut out).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdrop::openstack::image::Image;

    #[test]
    fn openstack_image_create_flags_parse() {
        let cli = Cli::try_parse_from([
            "stackdrop",
            "--os-cloud",
            "lab",
            "image",
            "create",
            "--disk-format",
            "qcow2",
            "--file",
            "c.qcow2",
            "--public",
            "--property",
            "os_distro=cirros",
            "--property",
            "a=b=c",
            "--tag",
            "t1",
            "--min-disk",
            "1",
            "--protected",
            "-f",
            "json",
            "-c",
            "id",
            "cirros",
        ])
        .unwrap();
        let Command::Image(ImageCommand::Create(a)) = cli.command else { panic!() };
        assert_eq!(a.file, vec![PathBuf::from("c.qcow2")]);
        let spec = a.spec();
        assert_eq!(cli.global.os_cloud.as_deref(), Some("lab"));
        assert_eq!(spec.visibility.as_deref(), Some("public"));
        assert_eq!(spec.container_format, "bare");
        assert_eq!(spec.properties, vec![("os_distro".into(), "cirros".into()), ("a".into(), "b=c".into())]);
        assert_eq!(spec.protected, Some(true));
        assert_eq!(a.output.columns, vec!["id".to_string()]);
    }

    #[test]
    fn visibility_flags_exclude_each_other() {
        let r = Cli::try_parse_from(["stackdrop", "image", "create", "--public", "--private", "x"]);
        assert!(r.is_err());
        let r = Cli::try_parse_from(["stackdrop", "image", "create", "--property", "novalue", "x"]);
        assert!(r.is_err());
    }

    fn parse(args: &[&str]) -> Cli {
        let m = command().try_get_matches_from(args).unwrap();
        <Cli as clap::FromArgMatches>::from_arg_matches(&m).unwrap()
    }

    fn help(args: &[&str]) -> String {
        command().try_get_matches_from(args).unwrap_err().render().to_string()
    }

    #[test]
    fn cloud_options_are_described_once_and_work_anywhere() {
        let root = help(&["stackdrop", "--help"]);
        assert!(root.contains("Cloud options (any command)") && root.contains("--os-auth-url <URL>"), "{root}");
        for cmd in [&["image", "list"][..], &["image", "member", "list"], &["token", "issue"], &["profile", "add"]] {
            let args: Vec<&str> = ["stackdrop"].iter().chain(cmd).chain(&["--help"]).copied().collect();
            let h = help(&args);
            assert!(!h.contains("--os-auth-url <URL>") && !h.contains("--os-region-name"), "{cmd:?}: {h}");
            assert!(h.contains("Cloud options (--os-cloud"), "{cmd:?}: {h}");
        }
        let list = help(&["stackdrop", "image", "list", "--help"]);
        assert!(list.contains("--member-status") && list.contains("--sort"), "{list}");
        let after = parse(&["stackdrop", "image", "list", "--os-cloud", "lab", "--long", "--os-region-name", "R2"]);
        assert_eq!(after.global.os_cloud.as_deref(), Some("lab"));
        assert_eq!(after.global.os_region_name.as_deref(), Some("R2"));
        let nested = parse(&["stackdrop", "image", "member", "list", "x", "--os-cloud", "c"]);
        assert_eq!(nested.global.os_cloud.as_deref(), Some("c"));
    }

    #[test]
    fn image_set_flags_become_one_edit() {
        let cli = parse(&[
            "stackdrop",
            "image",
            "set",
            "img",
            "--name",
            "n",
            "--public",
            "--property",
            "a=1",
            "--os-distro",
            "ubuntu",
            "--tag",
            "t",
            "--unprotected",
            "--hidden",
            "--min-ram",
            "512",
            "--instance-uuid",
            "vm1",
        ]);
        let Command::Image(ImageCommand::Set(a)) = cli.command else { panic!() };
        let e = a.edit();
        assert_eq!(e.name.as_deref(), Some("n"));
        assert_eq!(e.visibility.as_deref(), Some("public"));
        assert_eq!((e.protected, e.hidden, e.min_ram), (Some(false), Some(true), Some(512)));
        assert_eq!(
            e.properties,
            vec![("a".into(), "1".into()), ("instance_id".into(), "vm1".into()), ("os_distro".into(), "ubuntu".into())]
        );
        assert_eq!(e.add_tags, vec!["t".to_string()]);
        assert!(command().try_get_matches_from(["stackdrop", "image", "set", "i", "--public", "--private"]).is_err());
        assert!(command().try_get_matches_from(["stackdrop", "image", "set", "i", "--accept", "--reject"]).is_err());
        assert!(command().try_get_matches_from(["stackdrop", "image", "set", "i", "--disk-format", "qed"]).is_err());
    }

    #[test]
    fn flags_become_overrides() {
        let cli = Cli::try_parse_from([
            "stackdrop",
            "--os-region-name",
            "R2",
            "--insecure",
            "--os-username",
            "u",
            "image",
            "list",
        ])
        .unwrap();
        assert_eq!(cli.global.overrides(), json!({"region_name": "R2", "verify": false, "auth": {"username": "u"}}));
    }

    #[test]
    fn fields_fold_properties() {
        let img = Image::from_value(
            json!({"id": "i", "name": "n", "status": "active", "os_distro": "cirros", "self": "/v2/images/i"}),
            "-",
        )
        .unwrap();
        let f = img.fields();
        let props = f.iter().find(|(k, _)| k == "properties").unwrap();
        assert_eq!(props.1, json!({"os_distro": "cirros"}));
        assert!(f.iter().all(|(k, _)| k != "self"));
    }
}

/// One cloud, five ways in: clouds.yaml, clouds.yaml + secure.yaml, `OS_*`, `--os-*` flags
/// and a saved profile must all resolve to the same cloud (through the one typed entry).
#[cfg(test)]
mod one_model {
    use super::*;
    use stackdrop::config::secrets::Memory;
    use stackdrop::config::{self, Profile, ProfileStore, Secrets};
    use stackdrop::openstack::identity::AuthMethod;
    use stackdrop::openstack::{Cloud, Secret};

    /// A case: the clouds.yaml-style keys (auth ones and top-level ones), with the secret's key.
    struct Case {
        what: &'static str,
        auth: &'static [(&'static str, &'static str)],
        top: &'static [(&'static str, &'static str)],
        secret: (&'static str, &'static str),
    }

    const CASES: &[Case] = &[
        Case {
            what: "password, names and domains",
            auth: &[
                ("auth_url", "http://k.example/identity/v3"),
                ("username", "alice"),
                ("user_domain_name", "Default"),
                ("project_name", "demo"),
                ("project_domain_id", "default"),
            ],
            top: &[("region_name", "RegionTwo"), ("interface", "internal")],
            secret: ("password", "pw-1"),
        },
        Case {
            what: "application credential by id, auth type inferred",
            auth: &[("auth_url", "https://k.example:5000/v3"), ("application_credential_id", "ac-id")],
            top: &[("image_endpoint_override", "http://g.example:9292")],
            secret: ("application_credential_secret", "ac-secret"),
        },
        Case {
            what: "application credential by name and user",
            auth: &[
                ("auth_url", "http://k.example/v3"),
                ("application_credential_name", "ci"),
                ("username", "bob"),
                ("user_domain_id", "default"),
            ],
            top: &[("auth_type", "v3applicationcredential")],
            secret: ("application_credential_secret", "ac-2"),
        },
        Case {
            what: "token scoped to a project id",
            auth: &[("auth_url", "http://k.example/v3"), ("project_id", "p-1")],
            top: &[("auth_type", "token")],
            secret: ("token", "tok-1"),
        },
    ];

    fn entry(c: &Case, with_secret: bool) -> Value {
        let mut auth: Map<String, Value> = c.auth.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        if with_secret {
            auth.insert(c.secret.0.into(), json!(c.secret.1));
        }
        let mut top: Map<String, Value> = c.top.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        top.insert("auth".into(), Value::Object(auth));
        Value::Object(top)
    }

    /// Everything about a cloud but its name, secrets included (Debug redacts them).
    fn what_it_is(c: &Cloud) -> String {
        let secret = match &c.credentials.method {
            AuthMethod::Password { password, .. } => password.expose(),
            AuthMethod::ApplicationCredential { secret, .. } => secret.expose(),
            AuthMethod::Token { token } => token.expose(),
        };
        let mut c = c.clone();
        c.name.clear();
        format!("{c:?} secret={secret}")
    }

    const OS_VARS: &[(&str, &str)] = &[
        ("auth_url", "OS_AUTH_URL"),
        ("username", "OS_USERNAME"),
        ("user_domain_name", "OS_USER_DOMAIN_NAME"),
        ("user_domain_id", "OS_USER_DOMAIN_ID"),
        ("project_name", "OS_PROJECT_NAME"),
        ("project_id", "OS_PROJECT_ID"),
        ("project_domain_id", "OS_PROJECT_DOMAIN_ID"),
        ("application_credential_id", "OS_APPLICATION_CREDENTIAL_ID"),
        ("application_credential_name", "OS_APPLICATION_CREDENTIAL_NAME"),
        ("password", "OS_PASSWORD"),
        ("application_credential_secret", "OS_APPLICATION_CREDENTIAL_SECRET"),
        ("token", "OS_TOKEN"),
        ("region_name", "OS_REGION_NAME"),
        ("interface", "OS_INTERFACE"),
        ("auth_type", "OS_AUTH_TYPE"),
        ("image_endpoint_override", "OS_IMAGE_ENDPOINT_OVERRIDE"),
    ];

    fn flag(key: &str) -> String {
        format!("--os-{}", key.replace('_', "-"))
    }

    #[test]
    fn every_source_resolves_to_the_same_cloud() {
        for c in CASES {
            let dir = tempfile::tempdir().unwrap();
            let files = |with_secret: bool| {
                let clouds = dir.path().join("clouds.yaml");
                let secure = dir.path().join("secure.yaml");
                std::fs::write(
                    &clouds,
                    serde_yaml_ng::to_string(&json!({"clouds": {"c": entry(c, with_secret)}})).unwrap(),
                )
                .unwrap();
                let s = json!({"clouds": {"c": {"auth": {c.secret.0: c.secret.1}}}});
                std::fs::write(&secure, serde_yaml_ng::to_string(&s).unwrap()).unwrap();
                let (clouds, secure) = (clouds.display().to_string(), secure.display().to_string());
                move |k: &str| match k {
                    "OS_CLIENT_CONFIG_FILE" => Some(clouds.clone()),
                    "OS_CLIENT_SECURE_FILE" if !with_secret => Some(secure.clone()),
                    "OS_CLIENT_SECURE_FILE" => Some("/nonexistent".into()),
                    _ => None,
                }
            };
            let none = json!({});
            let mut got = vec![];
            // clouds.yaml with the secret in it.
            got.push(("clouds.yaml", config::resolve(Some("c"), &none, &files(true)).unwrap()));
            // clouds.yaml without it, secure.yaml with it.
            got.push(("clouds.yaml + secure.yaml", config::resolve(Some("c"), &none, &files(false)).unwrap()));
            // OS_* variables.
            let all: Vec<(&str, &str)> = c.auth.iter().chain(c.top).copied().chain([c.secret]).collect();
            let vars: std::collections::HashMap<String, String> = all
                .iter()
                .map(|(k, v)| {
                    (OS_VARS.iter().find(|(key, _)| key == k).expect("an OS_ variable").1.to_owned(), v.to_string())
                })
                .collect();
            got.push(("OS_*", config::resolve(None, &none, &|k: &str| vars.get(k).cloned()).unwrap()));
            // --os-* flags.
            let mut args = vec!["stackdrop".to_owned()];
            for (k, v) in &all {
                args.extend([flag(k), v.to_string()]);
            }
            args.extend(["image".into(), "list".into()]);
            let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{}: {e}", c.what));
            got.push(("--os-* flags", config::resolve(None, &cli.global.overrides(), &|_: &str| None).unwrap()));
            // A saved profile (secret in the keyring).
            let store = ProfileStore::at(dir.path().join("profiles"));
            let secrets = Secrets::new(Box::new(Memory::default()));
            let (p, secret) = Profile::from_entry("c", &entry(c, true)).unwrap();
            assert_eq!(secret, Some(Secret::new(c.secret.1.into())), "{}", c.what);
            store.save(&[("c".to_owned(), p)].into_iter().collect()).unwrap();
            secrets.save_credential("c", &Secret::new(c.secret.1.into())).unwrap();
            let opened = config::open(Some("c"), &none, &|_: &str| None, &store, &secrets, None).unwrap();
            assert!(opened.profile.is_some());
            got.push(("profile", opened.cloud));

            let want = what_it_is(&got[0].1);
            for (source, cloud) in &got {
                assert_eq!(what_it_is(cloud), want, "{}: {source} differs from clouds.yaml", c.what);
            }
        }
    }
}
