//! A one-line terminal progress bar: `[=====>    ]  49%  512.0 MiB / 1.0 GiB  78.2 MiB/s  ETA 0:07`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use stackdrop::upload::{Phase, Progress, ProgressFn};

/// `1.5 GiB`, `12.0 MiB`, `512 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `0:07`, `1:02:03`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn line(p: &Progress, width: usize) -> String {
    let label = match p.phase {
        Phase::Queued => stackdrop::i18n::t("cli.phase.queued"),
        Phase::Connecting => stackdrop::i18n::t("cli.phase.connecting"),
        Phase::Creating => stackdrop::i18n::t("cli.phase.creating"),
        Phase::Uploading => stackdrop::i18n::t("cli.phase.uploading"),
        Phase::Verifying => stackdrop::i18n::t("cli.phase.verifying"),
        Phase::Active => stackdrop::i18n::t("cli.phase.active"),
        Phase::CleaningUp => stackdrop::i18n::t("cli.phase.cleaning_up"),
    };
    let frac = p.fraction();
    let filled = ((width as f64) * frac) as usize;
    let bar: String = (0..width)
        .map(|i| {
            if i < filled {
                '='
            } else if i == filled && frac < 1.0 {
                '>'
            } else {
                ' '
            }
        })
        .collect();
    let mut s = format!("[{bar}] {:>3.0}%  {} / {}", frac * 100.0, bytes(p.sent), bytes(p.total));
    if p.phase == Phase::Uploading && p.rate > 0.0 {
        s += &format!("  {}/s", bytes(p.rate as u64));
        if let Some(eta) = p.eta_secs {
            s += &format!("  ETA {}", duration(eta));
        }
    }
    match &p.server_status {
        Some(st) if p.phase == Phase::Verifying => format!("{s}  {label} (Glance: {st})"),
        _ => s + "  " + label,
    }
}

/// A progress sink that redraws one line on stderr.
pub fn terminal_bar() -> ProgressFn {
    let last = Arc::new(Mutex::new(0usize));
    Arc::new(move |p: &Progress| {
        let text = line(p, 30);
        let mut prev = last.lock().unwrap_or_else(|e| e.into_inner());
        let pad = prev.saturating_sub(text.chars().count());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}{}", " ".repeat(pad));
        if matches!(p.phase, Phase::Active) {
            let _ = writeln!(err);
        }
        let _ = err.flush();
        *prev = text.chars().count();
    })
}

/// One line per upload, redrawn together on stderr.
#[derive(Clone)]
pub struct MultiBar {
    state: Arc<Mutex<(Vec<String>, usize)>>,
    labels: Arc<Vec<String>>,
}

impl MultiBar {
    pub fn new(labels: Vec<String>) -> MultiBar {
        let lines = labels.iter().map(|l| format!("{l}: {}", stackdrop::i18n::t("cli.phase.queued"))).collect();
        MultiBar { state: Arc::new(Mutex::new((lines, 0))), labels: Arc::new(labels) }
    }

    /// The progress sink for line `i`.
    pub fn line(&self, i: usize) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |p: &Progress| {
            let mut st = me.state.lock().unwrap_or_else(|e| e.into_inner());
            st.0[i] = format!("{}: {}", me.labels[i], line(p, 20));
            let mut err = std::io::stderr().lock();
            if st.1 > 0 {
                let _ = write!(err, "\x1b[{}F", st.1);
            }
            for l in &st.0 {
                let _ = writeln!(err, "\x1b[2K{l}");
            }
            st.1 = st.0.len();
            let _ = err.flush();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
        assert_eq!(duration(7.4), "0:07");
        assert_eq!(duration(3723.0), "1:02:03");
    }

    #[test]
    fn bar_shows_rate_and_eta_while_uploading() {
        let p = Progress {
            phase: Phase::Uploading,
            image_id: None,
            sent: 512 << 20,
            total: 1 << 30,
            rate: 80.0 * 1048576.0,
            eta_secs: Some(6.4),
            server_status: None,
        };
        assert_eq!(line(&p, 10), "[=====>    ]  50%  512.0 MiB / 1.0 GiB  80.0 MiB/s  ETA 0:06  uploading");
    }
}
