//! The project's images: list, details, delete.

use serde::Serialize;
use serde_json::{Map, Value};
use tauri::State;

use super::{shown, AppState, CmdResult};

#[tauri::command]
pub async fn images_list(state: State<'_, AppState>, cloud: String) -> CmdResult<Vec<Map<String, Value>>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let mut images = s.images().list(&[]).await.map_err(shown)?;
    images.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(images.iter().map(|i| i.to_map()).collect())
}

#[tauri::command]
pub async fn image_show(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<Vec<(String, Value)>> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
    let img = s.images().get(&id).await.map_err(shown)?;
    Ok(img.fields())
}

#[tauri::command]
pub async fn image_delete(state: State<'_, AppState>, cloud: String, id: String) -> CmdResult<()> {
    let s = state.sessions.get(&cloud).await.map_err(shown)?;
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
