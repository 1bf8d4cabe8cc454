// No console window for the desktop app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[cfg(feature = "gui")]
mod app;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() <= 1 {
        #[cfg(feature = "gui")]
        return app::run();
    }
    #[cfg(windows)]
    attach_parent_console();
    cli::main(args)
}

/// A Windows release build has no console of its own (`windows_subsystem = "windows"`, so the
/// app opens no console window); the command line writes to the console of the shell that
/// started it. With no such console (started from Explorer), nothing changes.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};
    // SAFETY: AttachConsole takes a process id and has no other precondition; it fails
    // harmlessly when the process already has a console or the parent has none.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
