//! Files come in by drag-and-drop (see `run`) or through the native dialog.

use stackdrop::upload::local::Offered;
use tauri::State;

use super::{blocking, AppState, CmdResult};

/// The native file dialog (rfd, GTK on Linux). Async: a dialog on the main thread would block.
#[tauri::command]
pub async fn files_pick(state: State<'_, AppState>) -> CmdResult<Vec<Offered>> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Choose disk images")
        .add_filter("Disk images", &["qcow2", "img", "raw", "iso", "vmdk", "vhd", "vhdx", "vdi"])
        .add_filter("All files", &["*"])
        .pick_files()
        .await
        .unwrap_or_default();
    let paths: Vec<_> = picked.iter().map(|f| f.path().to_owned()).collect();
    let files = state.files.clone();
    blocking(move || Ok(files.offer(&paths))).await
}

#[tauri::command]
pub async fn files_forget(state: State<'_, AppState>, handle: String) -> CmdResult<()> {
    state.files.forget(&handle);
    Ok(())
}
