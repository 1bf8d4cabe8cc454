//! `stackdrop profile list|show|add|import|export|set-secret|rename|remove|test`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use stackdrop::config::import::{self, ApplyOptions, Candidate};
use stackdrop::config::profiles::Profile;
use stackdrop::config::{self, manage, process_env, ProfileStore, Secrets};
use stackdrop::i18n::Localized;
use stackdrop::openstack::check::{self, Step, StepState};
use stackdrop::openstack::Secret;

use super::error::Error;

use super::output::{self, Format, OutputArgs};
use super::{io, GlobalArgs};
use stackdrop::i18n::{t, tf};

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List Stackdrop's cloud profiles (secrets are in the OS keyring, never shown)
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one profile
    Show {
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Add a profile from the --os-* flags (e.g. --os-auth-url, --os-username,
    /// --os-project-name, --os-user-domain-name); the secret is asked for
    Add {
        name: String,
        /// Upload default: visibility of new images
        #[arg(long, value_parser = ["public", "private", "shared", "community"])]
        visibility: Option<String>,
        /// Upload default: disk format when the file's headers do not tell
        #[arg(long)]
        disk_format: Option<String>,
        /// Upload default: turn raw disks into qcow2 on the way (image create --convert)
        #[arg(long, value_name = "FORMAT")]
        convert: Option<stackdrop::convert::Format>,
        #[command(flatten)]
        save: SaveArgs,
    },
    /// Import clouds from clouds.yaml (+ secure.yaml), an openrc file, or the OS_* environment;
    /// without FILE, from where openstackclient finds clouds.yaml
    Import {
        /// A clouds.yaml / clouds.json, or an openrc file (read, never run)
        file: Option<PathBuf>,
        /// The secure.yaml to merge (default: one beside FILE)
        #[arg(long, value_name = "FILE", requires = "file")]
        secure: Option<PathBuf>,
        /// Profile name for an openrc or --env; with a clouds.yaml, import only this cloud
        #[arg(long)]
        name: Option<String>,
        /// Import the OS_* variables of this shell (openstackclient's `envvars` cloud)
        #[arg(long, conflicts_with_all = ["file", "secure"])]
        env: bool,
        #[command(flatten)]
        save: SaveArgs,
    },
    /// Print a profile as a clouds.yaml entry (no secret unless --with-secrets)
    Export {
        name: String,
        /// Include the secret from the keyring (the output then holds it in plain text)
        #[arg(long)]
        with_secrets: bool,
        #[arg(short = 'f', long = "format", default_value = "yaml", value_parser = ["yaml", "json"])]
        format: String,
    },
    /// Replace the secret (password, application credential secret or token) kept for a profile
    SetSecret {
        name: String,
        /// Read the secret from the first line of standard input instead of asking
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Rename a profile (its keyring entry moves with it)
    Rename { from: String, to: String },
    /// Remove profiles and their keyring entries
    #[command(visible_alias = "delete")]
    Remove {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Run the connection sequence step by step: identity discovery, token, catalog, Glance
    /// versions, import methods, stores
    Test {
        /// A profile, or a cloud in clouds.yaml (default: --os-cloud / OS_CLOUD / OS_*)
        name: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Read the secret from the first line of standard input instead of asking
    #[arg(long)]
    pub secret_stdin: bool,
    /// Save even when no OS keyring is reachable: the secret is then asked for each time
    #[arg(long)]
    pub no_keyring: bool,
    /// Overwrite profiles of the same name
    #[arg(long)]
    pub replace: bool,
}

impl SaveArgs {
    fn options(&self) -> ApplyOptions {
        ApplyOptions { replace: self.replace, without_keyring: self.no_keyring }
    }
}

/// The CLI's way to get a missing secret: ask on the terminal, if there is one.
pub fn ask_on_terminal(p: &Profile, why: &config::Missing) -> Option<Secret> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let why = stackdrop::i18n::missing_secret(stackdrop::i18n::current(), why, p.auth_type);
    eprintln!("stackdrop: {}", tf("cli.profile.prompt_why", &[("name", &p.name), ("why", &why)]));
    prompt(p)
}

/// The kind of secret a profile needs, in the person's language.
fn secret_label(p: &Profile) -> String {
    stackdrop::i18n::secret_label(stackdrop::i18n::current(), p.auth_type)
}

fn prompt(p: &Profile) -> Option<Secret> {
    let who = p.username.as_deref().or(p.user_id.as_deref()).or(p.application_credential_id.as_deref()).unwrap_or("");
    let label = secret_label(p);
    let mut chars = label.chars();
    let capital: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    let text = if who.is_empty() {
        tf("cli.profile.prompt_anon", &[("What", &capital), ("what", &label)])
    } else {
        tf("cli.profile.prompt", &[("What", &capital), ("what", &label), ("who", &who)])
    };
    let s = rpassword::prompt_password(text).ok()?;
    (!s.is_empty()).then(|| Secret::new(s))
}

fn stdin_secret() -> Result<Secret, Error> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::File { path: "standard input".into(), detail: e.to_string() })?;
    let s = line.trim_end_matches(['\n', '\r']).to_owned();
    if s.is_empty() {
        return Err(Error::Usage("standard input held no secret".into()));
    }
    Ok(Secret::new(s))
}

/// The secret for a new or imported profile that its source did not carry.
fn secret_for(p: &Profile, from_stdin: bool) -> Result<Option<Secret>, Error> {
    if from_stdin {
        return stdin_secret().map(Some);
    }
    Ok(if std::io::stdin().is_terminal() { prompt(p) } else { None })
}

fn store() -> ProfileStore {
    ProfileStore::default_location(&process_env)
}

fn rows(listed: &[manage::Listed]) -> Vec<Vec<Value>> {
    listed
        .iter()
        .map(|l| {
            let p = &l.profile;
            let user = p.username.clone().or(p.user_id.clone()).or(p.application_credential_id.clone());
            let project = p.project_name.clone().or(p.project_id.clone());
            vec![
                json!(p.name),
                json!(p.auth_url),
                json!(p.auth_type.as_str()),
                json!(user),
                json!(project),
                json!(p.region_name),
                json!(l.secret),
            ]
        })
        .collect()
}

fn fields(l: &manage::Listed) -> Vec<(String, Value)> {
    let mut v = serde_json::to_value(&l.profile).unwrap_or_default();
    let mut f: Vec<(String, Value)> = Vec::new();
    if let Value::Object(m) = &mut v {
        for (k, val) in std::mem::take(m) {
            if !val.is_null() && val != json!({}) {
                f.push((k, val));
            }
        }
    }
    f.push(("secret".into(), json!(l.secret.describe())));
    f
}

pub async fn run(cmd: ProfileCommand, g: &GlobalArgs, out: &mut dyn Write) -> Result<(), Error> {
    let store = store();
    let secrets = Secrets::for_store(&store);
    match cmd {
        ProfileCommand::Test { name, output } => test(g, name, &store, &secrets, output, out).await,
        // The profile file, the keyring's D-Bus calls and terminal prompts block: told to the
        // runtime, so that it moves its other work off this thread.
        cmd => tokio::task::block_in_place(|| edit(cmd, g, &store, &secrets, out)),
    }
}

/// Every profile command but `test`: local work only.
fn edit(
    cmd: ProfileCommand,
    g: &GlobalArgs,
    store: &ProfileStore,
    secrets: &Secrets,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        ProfileCommand::List { output } => {
            let listed = manage::list(store, secrets)?;
            let headers = ["Name", "Auth URL", "Auth Type", "User", "Project", "Region", "Secret"];
            if listed.is_empty() && output.format == Format::Table {
                eprintln!("{}", tf("cli.profile.none_yet", &[("file", &store.path().display())]));
            }
            output::show_list(out, &headers, &rows(&listed), &output).map_err(io)
        }
        ProfileCommand::Show { name, output } => {
            let p = manage::get(store, &name)?;
            let l = manage::Listed { secret: secrets.state(&name), profile: p };
            output::show_one(out, &fields(&l), &output).map_err(io)
        }
        ProfileCommand::Add { name, visibility, disk_format, convert, save } => {
            let entry = g.overrides();
            let (mut p, secret) = Profile::from_entry(&name, &entry)?;
            p.defaults.visibility = visibility;
            p.defaults.disk_format = disk_format;
            p.defaults.convert = convert;
            let secret = match secret {
                Some(s) => Some(s),
                None => secret_for(&p, save.secret_stdin)?,
            };
            let had = secret.is_some();
            let applied = manage::save(store, secrets, p, secret, save.options())?;
            report_forgotten(&applied.forgotten);
            report_saved(&[name], had, secrets);
            Ok(())
        }
        ProfileCommand::Import { file, secure, name, env, save } => {
            let mut cands = candidates(store, file.as_deref(), secure.as_deref(), name.as_deref(), env)?;
            // An openrc that asks for its password at `source` time: ask now, once.
            for c in cands.iter_mut().filter(|c| c.ask_secret) {
                if save.secret_stdin || std::io::stdin().is_terminal() {
                    let what = secret_label(&c.profile);
                    eprintln!("stackdrop: {}", tf("cli.profile.asks", &[("file", &c.source), ("what", &what)]));
                }
                c.secret = secret_for(&c.profile, save.secret_stdin)?;
            }
            let applied = import::apply(store, secrets, &cands, save.options())?;
            for c in &cands {
                let note = if c.has_secret() { "" } else { t("cli.profile.no_secret") };
                eprintln!("{}{note}", tf("cli.profile.imported", &[("name", &c.profile.name), ("source", &c.source)]));
            }
            report_forgotten(&applied.forgotten);
            report_saved(&applied.names, true, secrets);
            Ok(())
        }
        ProfileCommand::Export { name, with_secrets, format } => {
            let p = manage::get(store, &name)?;
            let secret = if with_secrets {
                Some(config::profile_secret(&p, secrets, &process_env, Some(&ask_on_terminal))?)
            } else {
                None
            };
            let doc = json!({ "clouds": { name: p.export_entry(secret.as_ref()) } });
            let text = if format == "json" {
                serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
            } else {
                serde_yaml_ng::to_string(&doc).unwrap_or_default()
            };
            out.write_all(text.as_bytes()).map_err(io)
        }
        ProfileCommand::SetSecret { name, secret_stdin } => {
            let p = manage::get(store, &name)?;
            let secret = secret_for(&p, secret_stdin)?
                .ok_or_else(|| Error::Usage("no secret given (use a terminal, or --secret-stdin)".into()))?;
            manage::set_secret(store, secrets, &name, &secret)?;
            eprintln!("{}", tf("cli.profile.secret_set", &[("what", &secret_label(&p)), ("name", &name)]));
            Ok(())
        }
        ProfileCommand::Rename { from, to } => {
            manage::rename(store, secrets, &from, &to)?;
            eprintln!("{}", tf("cli.profile.renamed", &[("from", &from), ("to", &to)]));
            Ok(())
        }
        ProfileCommand::Remove { names } => {
            for note in manage::remove(store, secrets, &names)? {
                eprintln!("stackdrop: {note}");
            }
            Ok(())
        }
        ProfileCommand::Test { .. } => unreachable!("run() tests a connection itself"),
    }
}

/// What `profile import` reads: the `OS_*` environment, a clouds.yaml + secure.yaml pair, one
/// file (clouds.yaml or an openrc), or clouds.yaml from openstacksdk's places; one cloud or all.
fn candidates(
    store: &ProfileStore,
    file: Option<&std::path::Path>,
    secure: Option<&std::path::Path>,
    name: Option<&str>,
    env: bool,
) -> Result<Vec<Candidate>, Error> {
    let only = |mut all: Vec<Candidate>| {
        if let Some(n) = name {
            all.retain(|c| c.profile.name == n);
        }
        all
    };
    let cands = if env {
        vec![import::read_env(name.unwrap_or("envvars"), &process_env)?]
    } else {
        match (file, secure) {
            (Some(f), Some(s)) => only(import::read_clouds_yaml(f, Some(s))?),
            (Some(f), None) if stackdrop::config::profiles::same_file(f, &store.path()) => {
                return Err(Error::Usage(format!("{} is Stackdrop's own profile file", f.display())));
            }
            (Some(f), None) => import::read_file(f, name, &process_env)?,
            (None, _) => {
                let all = only(import::read_standard(&process_env)?);
                match name {
                    Some(n) if all.is_empty() => return Err(Error::Usage(format!("clouds.yaml has no cloud '{n}'"))),
                    _ => all,
                }
            }
        }
    };
    if cands.is_empty() {
        return Err(Error::Usage("nothing to import".into()));
    }
    Ok(cands)
}

/// `profile test`: each step printed as it ends on a terminal table, or all at once as data.
async fn test(
    g: &GlobalArgs,
    name: Option<String>,
    store: &ProfileStore,
    secrets: &Secrets,
    output: OutputArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let name = name.or_else(|| g.os_cloud.clone());
    let opened = tokio::task::block_in_place(|| {
        config::open(name.as_deref(), &g.overrides(), &process_env, store, secrets, Some(&ask_on_terminal))
    })?;
    let live = output.format == Format::Table;
    let (mut steps, result) = check::test_connection(opened.cloud, &|step, failure| {
        if live && step.state != StepState::Running {
            println!("{}", line(step, failure));
        }
    })
    .await;
    if !live {
        if let (Err(e), Some(failed)) = (&result, steps.iter_mut().find(|s| s.state == StepState::Failed)) {
            failed.detail = e.localized();
        }
        let rows: Vec<Vec<Value>> = steps
            .iter()
            .map(|s| vec![json!(s.id), json!(t(s.id.title_key())), json!(s.state), json!(s.detail)])
            .collect();
        output::show_list(out, &["Step", "Title", "State", "Detail"], &rows, &output).map_err(io)?;
    }
    Ok(result?)
}

/// A test-connection step as one line: `[ok  ] Title: detail`, a failure in the person's
/// language.
fn line(step: &Step, failure: Option<&stackdrop::openstack::Error>) -> String {
    let mark = match step.state {
        StepState::Ok => "ok  ",
        StepState::Failed => "FAIL",
        StepState::Running => "... ",
        StepState::Skipped => "skip",
    };
    let detail = failure.map(|e| e.localized()).unwrap_or_else(|| step.detail.clone());
    let title = t(step.id.title_key());
    if detail.is_empty() {
        format!("[{mark}] {title}")
    } else {
        format!("[{mark}] {title}: {detail}")
    }
}

/// Profiles whose saved secret was dropped because they now point elsewhere.
fn report_forgotten(names: &[String]) {
    for name in names {
        eprintln!("stackdrop: {}", tf("cli.profile.secret_forgotten", &[("name", name)]));
    }
}

fn report_saved(names: &[String], had_secret: bool, secrets: &Secrets) {
    if !had_secret {
        return;
    }
    if let Err(e) = secrets.probe() {
        eprintln!("stackdrop: {}", tf("cli.profile.not_kept", &[("problem", &e)]));
    } else if !names.is_empty() {
        eprintln!("{}", tf("cli.profile.secrets_kept", &[("file", &store().path().display())]));
    }
}
