//! Desktop notifications, for an upload that ends while the window is in the background.
//! On Linux this is one call to the freedesktop notification service on the session bus
//! (the `dbus` crate, already here for the Secret Service); elsewhere nothing is sent yet.

use std::time::Duration;

/// Uploads shorter than this end while the person is still looking.
pub const LONG_UPLOAD: Duration = Duration::from_secs(10);

/// Tell the person about an upload that ended: only a long one, and only when they are not
/// looking at the window.
pub fn worth_telling(elapsed: Duration, window_focused: bool) -> bool {
    !window_focused && elapsed >= LONG_UPLOAD
}

/// Show a notification; an error says why it could not be shown.
#[cfg(target_os = "linux")]
pub fn send(summary: &str, body: &str) -> Result<u32, String> {
    use dbus::arg::PropMap;
    let conn = dbus::blocking::Connection::new_session().map_err(|e| e.to_string())?;
    let proxy =
        conn.with_proxy("org.freedesktop.Notifications", "/org/freedesktop/Notifications", Duration::from_secs(3));
    let actions: Vec<&str> = Vec::new();
    let hints = PropMap::new();
    let (id,): (u32,) = proxy
        .method_call(
            "org.freedesktop.Notifications",
            "Notify",
            ("Stackdrop", 0u32, "stackdrop", summary, body, actions, hints, -1i32),
        )
        .map_err(|e| e.to_string())?;
    Ok(id)
}

#[cfg(not(target_os = "linux"))]
pub fn send(_summary: &str, _body: &str) -> Result<u32, String> {
    Err("desktop notifications are only implemented on Linux".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_long_uploads_in_the_background() {
        assert!(worth_telling(Duration::from_secs(30), false));
        assert!(!worth_telling(Duration::from_secs(30), true));
        assert!(!worth_telling(Duration::from_secs(3), false));
    }
}
