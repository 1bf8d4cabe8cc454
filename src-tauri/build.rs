fn main() {
    // The page is embedded at compile time: rebuild when it changes.
    println!("cargo:rerun-if-changed=ui");
    #[cfg(feature = "gui")]
    tauri_build::build();
}
