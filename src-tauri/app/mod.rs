//! The desktop window (Tauri). A placeholder until the real GUI: it shows which clouds the
//! library can see. Commands here stay a few lines over the library.

use std::process::ExitCode;

#[derive(serde::Serialize)]
struct CloudsView {
    clouds_file: Option<String>,
    clouds: Vec<String>,
    env_cloud: bool,
}

/// Which clouds are configured (clouds.yaml and OS_*), without any secret.
#[tauri::command]
async fn list_clouds() -> Result<CloudsView, String> {
    let env = |k: &str| std::env::var(k).ok();
    let files = stackdrop::config::CloudFiles::load(&env).map_err(|e| e.to_string())?;
    Ok(CloudsView {
        clouds_file: files.clouds_file.map(|p| p.display().to_string()),
        clouds: files.clouds.keys().cloned().collect(),
        env_cloud: env("OS_AUTH_URL").is_some(),
    })
}

pub fn run() -> ExitCode {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![list_clouds])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stackdrop: cannot open the window: {e} (use `stackdrop --help` for the command line)");
            ExitCode::FAILURE
        }
    }
}
