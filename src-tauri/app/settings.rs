//! Language and remembered choices.

use super::remembered::UploadChoices;
use serde::Serialize;
use stackdrop::i18n::{self, Lang};
use tauri::State;

use super::{AppState, CmdResult};

#[derive(Serialize)]
pub struct Catalog {
    lang: Lang,
    entries: std::collections::BTreeMap<&'static str, &'static str>,
}

/// The catalogue in `lang` (remembered), or in the remembered language, or the OS locale's.
/// Rust's own messages (errors) follow the same choice.
#[tauri::command]
pub async fn i18n_catalog(state: State<'_, AppState>, lang: Option<String>) -> CmdResult<Catalog> {
    let chosen = lang.as_deref().and_then(Lang::parse);
    if let Some(l) = chosen {
        state.settings.update(|s| s.lang = Some(l.code().to_owned()));
    }
    let lang = chosen
        .or_else(|| state.settings.load().lang.as_deref().and_then(Lang::parse))
        .unwrap_or_else(|| Lang::from_env(&|k| std::env::var(k).ok()));
    i18n::set(lang);
    Ok(Catalog { lang, entries: i18n::entries(lang) })
}

/// The upload choices just used with `cloud`, remembered for its next files and the next run.
#[tauri::command]
pub async fn upload_choices_save(state: State<'_, AppState>, cloud: String, choices: UploadChoices) -> CmdResult<()> {
    state.settings.update(|s| {
        s.upload = choices.clone();
        s.upload_by_cloud.insert(cloud, choices);
    });
    Ok(())
}
