//! The Images tab: a page at a time of the project's images, one image's details, edits
//! (the library's `ImageEdit`), sharing, (de)activation, copy to stores, download (native save
//! dialog, progress on a Channel, the engine of `image save`) and delete.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stackdrop::download::{self, SaveOptions, Target};
use stackdrop::openstack::image::manage::Store;
use stackdrop::openstack::image::{ImageEdit, ImageQuery, Member};
use stackdrop::upload::Progress;
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use super::{shown, AppState, CmdResult};

/// What the page filters on the server's side; search, owner and format filter the loaded
/// pages in the page itself.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub visibility: Option<String>,
    pub status: Option<String>,
    pub tag: Option<String>,
    pub member_status: Option<String>,
    pub marker: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Serialize)]
pub struct ImagePage {
    images: Vec<Map<String, Value>>,
    next_marker: Option<String>,
    /// The session's project: "mine" in the owner filter.
    project_id: Option<String>,
}

#[tauri::command]
pub async fn images_page(state: State<'_, AppState>, cloud: String, query: PageQuery) -> CmdResult<ImagePage> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let q = ImageQuery {
        visibility: query.visibility,
        status: query.status,
        tags: query.tag.into_iter().collect(),
        member_status: query.member_status,
        marker: query.marker,
        limit: Some(query.limit.unwrap_or(100).clamp(1, 1000)),
        ..Default::default()
    };
    let page = s.images().page(&q).await.map_err(shown)?;
    let project_id = s.token().await.map_err(shown)?.project_id;
    Ok(ImagePage {
        images: page.images.iter().map(|i| i.to_map()).collect(),
        next_marker: page.next_marker,
        project_id,
    })
}

/// One image as Glance has it now.
#[tauri::command]
pub async fn image_get(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<Map<String, Value>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    Ok(s.images().get(&id).await.map_err(shown)?.to_map())
}

/// A project's name, when this user may read it (else none: the page shows the id).
#[tauri::command]
pub async fn project_name(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<Option<String>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    Ok(stackdrop::openstack::identity::projects::name_of(&s, &id).await)
}

/// Apply the editor's changes (only what changed is sent, as one JSON-patch).
#[tauri::command]
pub async fn image_update(
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    edit: ImageEdit,
) -> CmdResult<Map<String, Value>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let img = s.images().get(&id).await.map_err(shown)?;
    Ok(s.images().update(&img, &edit).await.map_err(shown)?.to_map())
}

/// `deactivate` or `reactivate`.
#[tauri::command]
pub async fn image_activation(state: State<'_, AppState>, cloud: String, id: String, active: bool) -> CmdResult<()> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    if active {
        s.images().reactivate(&id).await.map_err(shown)
    } else {
        s.images().deactivate(&id).await.map_err(shown)
    }
}

#[tauri::command]
pub async fn image_members(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<Vec<Member>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    s.images().members(&id).await.map_err(shown)
}

/// Share with a project given by name (within `domain`, by name or id, when given) or id.
#[tauri::command]
pub async fn image_share(
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    project: String,
    domain: Option<String>,
) -> CmdResult<Member> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let domain = domain.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let project =
        stackdrop::openstack::identity::projects::resolve_id(&s, project.trim(), domain).await.map_err(shown)?;
    s.images().add_member(&id, &project).await.map_err(shown)
}

#[tauri::command]
pub async fn image_unshare(state: State<'_, AppState>, cloud: String, id: String, project: String) -> CmdResult<()> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    s.images().remove_member(&id, &project).await.map_err(shown)
}

/// Accept, reject or leave pending an image shared with this project.
#[tauri::command]
pub async fn image_member_status(
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    status: String,
) -> CmdResult<Member> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let me = s.token().await.map_err(shown)?.project_id.ok_or("this session is not scoped to a project")?;
    s.images().set_member_status(&id, &me, &status).await.map_err(shown)
}

/// The cloud's stores (none without multi-store), for copy-image's choices.
#[tauri::command]
pub async fn image_stores(state: State<'_, AppState>, cloud: String) -> CmdResult<Vec<Store>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    Ok(s.images().stores_info(false).await.map_err(shown)?.unwrap_or_default())
}

/// Glance's image schema: which attributes exist, which are read-only, and the allowed values.
#[tauri::command]
pub async fn image_schema(state: State<'_, AppState>, cloud: String) -> CmdResult<Value> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    s.images().schema().await.map_err(shown)
}

#[tauri::command]
pub async fn image_delete(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<()> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let img = s.images().get(&id).await.map_err(shown)?;
    if img.protected == Some(true) {
        return Err(stackdrop::i18n::tf("ui.images.protected_no_delete", &[("name", &img.name().unwrap_or(img.id()))]));
    }
    s.images().delete(&id).await.map_err(shown)
}

/// copy-image: copy an active image into more stores; returns the stores that now hold it.
#[tauri::command]
pub async fn image_copy(
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    stores: Vec<String>,
) -> CmdResult<String> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let import = stackdrop::openstack::image::import::Import {
        method: stackdrop::openstack::image::import::ImportMethod::CopyImage,
        stores,
        all_stores: false,
        allow_failure: false,
    };
    let img = stackdrop::openstack::image::import::copy_image(&s, &id, &import, std::time::Duration::from_secs(600))
        .await
        .map_err(shown)?;
    Ok(img.other_str("stores").unwrap_or_default().to_owned())
}

/// Downloads running, by image id, for Cancel.
#[derive(Default, Clone)]
pub struct Downloads(std::sync::Arc<Mutex<HashMap<String, CancellationToken>>>);

/// What a download tells the page.
#[derive(Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DownloadEvent {
    Progress(Progress),
    Done { path: String, bytes: u64, md5: String, hash: Option<(String, String)> },
    Failed { message: String, cancelled: bool },
}

/// Ask where to save (the native dialog), then download and verify. Returns false when the
/// person closed the dialog; the outcome comes on the channel.
#[tauri::command]
pub async fn image_download(
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    on_event: Channel<DownloadEvent>,
) -> CmdResult<bool> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let img = s.images().get(&id).await.map_err(shown)?;
    let ext = img.disk_format.as_ref().map(|f| f.as_str().to_owned()).unwrap_or_else(|| "img".into());
    let suggested = format!("{}.{ext}", img.name().unwrap_or(img.id()).replace('/', "_"));
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_title(stackdrop::i18n::t("ui.images.save_title"))
        .set_file_name(&suggested)
        .save_file()
        .await
    else {
        return Ok(false);
    };
    let path = file.path().to_owned();
    let cancel = CancellationToken::new();
    state.downloads.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), cancel.clone());
    let events = on_event.clone();
    let opts = SaveOptions {
        progress: Some(std::sync::Arc::new(move |p: &Progress| {
            let _ = events.send(DownloadEvent::Progress(p.clone()));
        })),
        cancel,
        ..Default::default()
    };
    let downloads = state.downloads.clone();
    tauri::async_runtime::spawn(async move {
        let r = download::save(&s, &img, Target::File(path), &opts).await;
        downloads.0.lock().unwrap_or_else(|e| e.into_inner()).remove(img.id());
        let _ = on_event.send(match r {
            Ok(d) => DownloadEvent::Done {
                path: d.path.map(|p| p.display().to_string()).unwrap_or_default(),
                bytes: d.bytes,
                md5: d.md5,
                hash: d.hash,
            },
            Err(e) => DownloadEvent::Failed { cancelled: e.is_cancelled(), message: shown(e) },
        });
    });
    Ok(true)
}

#[tauri::command]
pub async fn image_download_cancel(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    if let Some(c) = state.downloads.0.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        c.cancel();
    }
    Ok(())
}

/// Glance's disk and container formats, for the page's choices and checks.
#[derive(Serialize)]
pub struct ImageFormats {
    disk: &'static [&'static str],
    container: &'static [&'static str],
}

#[tauri::command]
pub async fn image_formats() -> CmdResult<ImageFormats> {
    use stackdrop::openstack::image::{ContainerFormat, DiskFormat};
    Ok(ImageFormats { disk: DiskFormat::KNOWN, container: ContainerFormat::KNOWN })
}
