//! Progress of one upload as plain data, for the terminal bar and the app's progress bar alike.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for a free upload slot (the app runs a few at a time).
    Queued,
    /// Identity discovery, token, catalog, image discovery (cached after the first upload).
    Connecting,
    /// `POST /v2/images`.
    Creating,
    /// `PUT …/file`: the bytes are streaming.
    Uploading,
    /// Waiting for `active` and comparing size and checksums.
    Verifying,
    Active,
    /// Deleting the image after a failure or a cancel.
    CleaningUp,
    /// `GET …/file`: an image's data coming down (`image save`, the window's Download).
    Downloading,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub image_id: Option<String>,
    /// Bytes handed to the connection so far, and the file size.
    pub sent: u64,
    pub total: u64,
    /// Bytes per second over the last few seconds (0 until measurable).
    pub rate: f64,
    /// Seconds left at that rate.
    pub eta_secs: Option<f64>,
    /// Glance's status while it finishes (`saving`, `importing`, `uploading`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_status: Option<String>,
}

impl Progress {
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        (self.sent as f64 / self.total as f64).clamp(0.0, 1.0)
    }
}

/// Where progress goes: a closure the CLI or the app supplies.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Where warnings go (see `UploadOptions::on_warning`).
pub type WarnFn = Arc<dyn Fn(&str) + Send + Sync>;

/// A rate over a sliding window, so that a stall shows as a falling rate, not a stale average.
#[derive(Debug)]
pub struct RateMeter {
    window: Duration,
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    pub fn new(window: Duration) -> RateMeter {
        RateMeter { window, samples: VecDeque::new() }
    }

    /// Record that `bytes` had been sent at `at`; returns bytes per second over the window.
    pub fn record(&mut self, at: Instant, bytes: u64) -> f64 {
        self.samples.push_back((at, bytes));
        while self.samples.len() > 2 && at.duration_since(self.samples[1].0) >= self.window {
            self.samples.pop_front();
        }
        let (t0, b0) = self.samples[0];
        let dt = at.duration_since(t0).as_secs_f64();
        if dt < 0.05 {
            return 0.0;
        }
        bytes.saturating_sub(b0) as f64 / dt
    }
}

/// Seconds to send `remaining` bytes at `rate`, if the rate says anything.
pub fn eta(remaining: u64, rate: f64) -> Option<f64> {
    (rate > 1.0).then(|| remaining as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_follows_the_recent_window() {
        let t = Instant::now();
        let mut m = RateMeter::new(Duration::from_secs(2));
        assert_eq!(m.record(t, 0), 0.0);
        let r = m.record(t + Duration::from_secs(1), 100);
        assert!((r - 100.0).abs() < 1e-9, "{r}");
        m.record(t + Duration::from_secs(2), 200);
        m.record(t + Duration::from_secs(3), 300);
        // A stall: the rate falls as the window slides past the last movement.
        let r = m.record(t + Duration::from_secs(5), 300);
        assert!(r < 60.0, "{r}");
        let r = m.record(t + Duration::from_secs(7), 300);
        assert_eq!(r, 0.0);
    }

    #[test]
    fn eta_needs_a_rate() {
        assert_eq!(eta(1000, 0.0), None);
        assert_eq!(eta(1000, 100.0), Some(10.0));
    }

    #[test]
    fn fraction_is_bounded() {
        let p = Progress {
            phase: Phase::Uploading,
            image_id: None,
            sent: 5,
            total: 10,
            rate: 0.0,
            eta_secs: None,
            server_status: None,
        };
        assert_eq!(p.fraction(), 0.5);
        assert_eq!(Progress { total: 0, ..p }.fraction(), 0.0);
    }
}
