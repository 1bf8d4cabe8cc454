//! "Test connection": `openstack image create`'s sequence run step by step with nothing
//! cached, each step reported as it starts and ends — identity discovery, token, catalog, Glance versions,
//! import methods, stores — so a person sees which step fails and why, in plain words.

use reqwest::Method;
use serde::Serialize;
use time::OffsetDateTime;

use super::error::{Error, Result, Service};
use super::identity::discovery::parse_versions;
use super::image::discovery::unversioned;
use super::session::{Cloud, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Running,
    Ok,
    Failed,
    Skipped,
}

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepId {
    Identity,
    Token,
    Catalog,
    Image,
    Import,
    Stores,
}

impl StepId {
    pub const ALL: [StepId; 6] =
        [StepId::Identity, StepId::Token, StepId::Catalog, StepId::Image, StepId::Import, StepId::Stores];

    /// The catalogue key of the step's title (the front ends show it in the person's language).
    pub fn title_key(self) -> &'static str {
        match self {
            StepId::Identity => "step.identity",
            StepId::Token => "step.token",
            StepId::Catalog => "step.catalog",
            StepId::Image => "step.image",
            StepId::Import => "step.import",
            StepId::Stores => "step.stores",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: StepId,
    pub state: StepState,
    /// What was found, or (in English) why it failed; the failure itself goes to `on_step`.
    pub detail: String,
}

/// Run every step against `cloud` with a fresh session. `on_step` hears each step as it
/// starts and as it ends, with the error when it failed. Returns all steps; the first failure
/// ends the run (later steps are `Skipped`) and is also the `Err`.
pub async fn test_connection(
    cloud: Cloud,
    on_step: &(dyn Fn(&Step, Option<&Error>) + Sync),
) -> (Vec<Step>, Result<()>) {
    let mut steps: Vec<Step> =
        StepId::ALL.iter().map(|&id| Step { id, state: StepState::Skipped, detail: String::new() }).collect();
    let session = match Session::new(cloud) {
        Ok(s) => s,
        Err(e) => {
            steps[0].state = StepState::Failed;
            steps[0].detail = e.to_string();
            on_step(&steps[0], Some(&e));
            return (steps, Err(e));
        }
    };
    let mut result = Ok(());
    for step in steps.iter_mut() {
        step.state = StepState::Running;
        on_step(step, None);
        match run_step(&session, step.id).await {
            Ok(detail) => {
                step.state = StepState::Ok;
                step.detail = detail;
                on_step(step, None);
            }
            Err(e) => {
                step.state = StepState::Failed;
                step.detail = e.to_string();
                on_step(step, Some(&e));
                result = Err(e);
                break;
            }
        }
    }
    (steps, result)
}

async fn run_step(s: &Session, id: StepId) -> Result<String> {
    let cloud = s.cloud();
    match id {
        StepId::Identity => {
            let v3 = s.identity_url().await?;
            Ok(format!("Keystone v3 at {v3}"))
        }
        StepId::Token => {
            let t = s.token().await?;
            let mins = (t.expires_at - OffsetDateTime::now_utc()).whole_minutes();
            let who = t.user_name.clone().or(t.user_id.clone()).unwrap_or_else(|| "?".into());
            let scope = match (&t.project_name, &t.project_id) {
                (Some(n), Some(id)) => format!("project {n} ({id})"),
                (None, Some(id)) => format!("project {id}"),
                _ => "no project (unscoped)".into(),
            };
            Ok(format!("user {who}, {scope}; expires {} (in {mins} min)", t.expires_at))
        }
        StepId::Catalog => {
            let t = s.token().await?;
            let regions = t.catalog.regions();
            let images: Vec<String> = t
                .catalog
                .endpoints
                .iter()
                .filter(|e| e.service_type == "image")
                .map(|e| format!("{} {} {}", e.interface, e.region.as_deref().unwrap_or("(no region)"), e.url))
                .collect();
            let mut d = format!(
                "{} service(s); regions: {}; image endpoints: {}",
                t.catalog.endpoints.iter().map(|e| &e.service_type).collect::<std::collections::BTreeSet<_>>().len(),
                if regions.is_empty() { "none".into() } else { regions.join(", ") },
                if images.is_empty() { "none".into() } else { images.join("; ") }
            );
            match &cloud.image_endpoint_override {
                Some(u) => d.push_str(&format!("; using the override {u}")),
                None => {
                    let chosen = t.catalog.endpoint("image", cloud.interface, cloud.region.as_deref())?;
                    d.push_str(&format!("; using {chosen}"));
                }
            }
            Ok(d)
        }
        StepId::Image => {
            let service = s.image_service().await?;
            let root = unversioned(&service.root);
            let req = s.http().request(Method::GET, root.as_str());
            let listed = match s.http().json(Service::Image, req).await {
                Ok(doc) => parse_versions(&doc)
                    .iter()
                    .map(|v| format!("{} ({})", v.id, v.status.to_ascii_lowercase()))
                    .collect::<Vec<_>>()
                    .join(", "),
                Err(_) => String::from("not listed"),
            };
            Ok(format!("using {} at {}; offered: {listed}", service.version.id, service.root))
        }
        StepId::Import => match s.images().import_methods().await {
            Ok(m) if m.is_empty() => Ok("none (only direct upload)".into()),
            Ok(m) => Ok(m.join(", ")),
            Err(Error::Api { status: 404, .. }) => Ok("not offered (only direct upload)".into()),
            Err(e) => Err(e),
        },
        StepId::Stores => {
            let stores = s.images().stores().await?;
            Ok(if stores.is_empty() { "one store (multiple stores are not enabled)".into() } else { stores.join(", ") })
        }
    }
}
