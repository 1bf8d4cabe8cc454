//! Terminal progress bars (indicatif): `[=====>    ]  49%  512.0 MiB / 1.0 GiB  78.2 MiB/s  ETA 0:07`.
//! The rate and time left are the engine's own (the app shows the same figures).

use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// The words after the bar: `49%  512.0 MiB / 1.0 GiB  78.2 MiB/s  ETA 0:07  uploading`.
pub fn status(p: &Progress) -> String {
    let label = match p.phase {
        Phase::Queued => stackdrop::i18n::t("cli.phase.queued"),
        Phase::Connecting => stackdrop::i18n::t("cli.phase.connecting"),
        Phase::Creating => stackdrop::i18n::t("cli.phase.creating"),
        Phase::Uploading => stackdrop::i18n::t("cli.phase.uploading"),
        Phase::Verifying => stackdrop::i18n::t("cli.phase.verifying"),
        Phase::Active => stackdrop::i18n::t("cli.phase.active"),
        Phase::CleaningUp => stackdrop::i18n::t("cli.phase.cleaning_up"),
        Phase::Downloading => stackdrop::i18n::t("cli.phase.downloading"),
    };
    let mut s = format!("{:>3.0}%  {} / {}", p.fraction() * 100.0, bytes(p.sent), bytes(p.total));
    if matches!(p.phase, Phase::Uploading | Phase::Downloading) && p.rate > 0.0 {
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

/// indicatif draws; stderr is named as a terminal so that `--progress` draws even into a pipe
/// (indicatif's own stderr target hides itself there).
fn stderr() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 10)
}

/// `[=====>    ]` then the status; `prefix` for one line among several.
fn style(width: usize, prefix: bool) -> ProgressStyle {
    let template = format!("{}[{{bar:{width}}}] {{msg}}", if prefix { "{prefix}: " } else { "" });
    ProgressStyle::with_template(&template).expect("a valid template").progress_chars("=> ")
}

fn show(bar: &ProgressBar, p: &Progress) {
    bar.set_length(p.total.max(1));
    bar.set_position(if p.total == 0 { 0 } else { p.sent.min(p.total) });
    bar.set_message(status(p));
    if p.phase == Phase::Active {
        bar.finish();
    }
}

/// A progress sink that draws one bar on stderr.
pub fn terminal_bar() -> ProgressFn {
    let bar = ProgressBar::with_draw_target(Some(1), stderr()).with_style(style(30, false));
    Arc::new(move |p: &Progress| show(&bar, p))
}

/// One bar per upload, drawn together on stderr.
#[derive(Clone)]
pub struct MultiBar {
    bars: Vec<ProgressBar>,
    _all: MultiProgress,
}

impl MultiBar {
    pub fn new(labels: Vec<String>) -> MultiBar {
        let all = MultiProgress::with_draw_target(stderr());
        let queued = stackdrop::i18n::t("cli.phase.queued");
        let bars = labels
            .into_iter()
            .map(|l| all.add(ProgressBar::new(1).with_style(style(20, true)).with_prefix(l).with_message(queued)))
            .collect();
        MultiBar { bars, _all: all }
    }

    /// The progress sink for line `i`.
    pub fn line(&self, i: usize) -> ProgressFn {
        let bar = self.bars[i].clone();
        Arc::new(move |p: &Progress| show(&bar, p))
    }

    /// Line `i` ended in failure (the reason is in the table that follows): said on the line,
    /// rather than its last phase (often "removing the image").
    pub fn failed(&self, i: usize) {
        self.bars[i].abandon_with_message(stackdrop::i18n::t("cli.phase.failed"));
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
        assert_eq!(status(&p), " 50%  512.0 MiB / 1.0 GiB  80.0 MiB/s  ETA 0:06  uploading");
        // And indicatif draws the bar before it, as before.
        let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::hidden()).with_style(style(10, false));
        show(&bar, &p);
        assert_eq!(bar.position(), 512 << 20);
        assert_eq!(bar.length(), Some(1 << 30));
    }
}
