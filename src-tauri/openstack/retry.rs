//! Waiting and trying again, in one place: a capped exponential [`Backoff`] with jitter,
//! [`retry`] to repeat an operation while its failure may pass, and [`poll_until`] to follow
//! a server-side status (an image becoming `active`, an import finishing) to its end.
//!
//! Which failures are worth another try is the caller's call (a GET may be repeated, a POST
//! only when the caller can tell whether the first one took effect), so both helpers take
//! that decision as a function; the timing lives here.
//!
//! Written here rather than taken from `backon`: the loops it replaces need the attempt number
//! inside the operation (a repeated `POST /v2/images` first looks for the image it may have
//! made) and a poll that reports the last status on timeout, which `backon` leaves to the
//! caller; the whole policy is the sixty lines below.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Capped exponential delays, each stretched by up to `jitter` (a fraction) at random, so that
/// many clients failing together do not come back together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub jitter: f64,
}

impl Backoff {
    /// 200 ms, 400 ms, 800 ms … up to 5 s, plus up to 50 %.
    pub const DEFAULT: Backoff =
        Backoff { first: Duration::from_millis(200), max: Duration::from_secs(5), jitter: 0.5 };

    /// The delay before try number `attempt + 1` (`attempt` ≥ 1 failures so far).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        let base = self.first.saturating_mul(1 << doublings).min(self.max);
        base.mul_f64(1.0 + self.jitter * fastrand::f64())
    }
}

/// How often an operation is tried again, and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// Tries after the first.
    pub retries: u32,
}

impl RetryPolicy {
    /// Requests that are safe to repeat (GET, HEAD, DELETE, Keystone's token request).
    pub const REQUESTS: RetryPolicy = RetryPolicy { backoff: Backoff::DEFAULT, retries: 3 };
    /// Deleting an image the upload made: Glance may still be winding the upload down.
    pub const CLEANUP: RetryPolicy = RetryPolicy { backoff: Backoff::DEFAULT, retries: 5 };
    /// Whole upload attempts (each into a new image): three in all.
    pub const UPLOADS: RetryPolicy = RetryPolicy { backoff: Backoff::DEFAULT, retries: 2 };
}

/// Run `op` (given the number of earlier tries, 0 first) until it succeeds, fails with an
/// error `retryable` refuses, or the policy's retries are spent; the last error is returned.
/// Each retry is logged with `what` at debug level.
pub async fn retry<T, E, F, Fut>(
    policy: RetryPolicy,
    what: &str,
    mut op: F,
    retryable: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < policy.retries && retryable(&e) => {
                attempt += 1;
                let wait = policy.backoff.delay(attempt);
                tracing::debug!("{what}: {e}; trying again in {wait:?} ({attempt}/{})", policy.retries);
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// What one look at a server-side status found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled<T, S> {
    /// Finished: stop polling.
    Ready(T),
    /// Still going, with what was seen (for the message if time runs out).
    Pending(S),
}

/// Look with `check` until it is [`Polled::Ready`] or fails; the delays grow as `backoff`
/// says (`jitter` ignored: nobody else is waiting on the same image). When `timeout` passes
/// with the status still pending, `timed_out` turns the last pending state into the error.
pub async fn poll_until<T, S, E, F, Fut>(
    backoff: Backoff,
    timeout: Duration,
    mut check: F,
    timed_out: impl FnOnce(S) -> E,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Polled<T, S>, E>>,
{
    let deadline = Instant::now() + timeout;
    let plain = Backoff { jitter: 0.0, ..backoff };
    let mut looks = 0;
    loop {
        match check().await? {
            Polled::Ready(v) => return Ok(v),
            Polled::Pending(s) if Instant::now() >= deadline => return Err(timed_out(s)),
            Polled::Pending(_) => {}
        }
        looks += 1;
        tokio::time::sleep(
            plain.delay(looks).min(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(10))),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let b = Backoff::DEFAULT;
        let mut seen = std::collections::HashSet::new();
        for attempt in 1..=40 {
            let d = b.delay(attempt);
            let base = Duration::from_millis(200 * (1u64 << (attempt - 1).min(20))).min(Duration::from_secs(5));
            assert!(d >= base && d <= base.mul_f64(1.5), "attempt {attempt}: {d:?}");
            seen.insert(d);
        }
        assert!(seen.len() > 20, "jitter varies the capped delays: {seen:?}");
        let none = Backoff { jitter: 0.0, ..b };
        assert_eq!(none.delay(3), Duration::from_millis(800));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_on_success_on_a_final_error_or_when_spent() {
        let calls = AtomicU32::new(0);
        let flaky = |n: u32| {
            let calls = &calls;
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if n < 2 {
                    Err(format!("transient {n}"))
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(retry(RetryPolicy::REQUESTS, "t", flaky, |_| true).await, Ok(2));
        assert_eq!(calls.swap(0, Ordering::SeqCst), 3);
        assert_eq!(
            retry(RetryPolicy::REQUESTS, "t", flaky, |e: &String| !e.ends_with('0')).await,
            Err("transient 0".into())
        );
        assert_eq!(calls.swap(0, Ordering::SeqCst), 1, "a final error is not repeated");
        let never = |n: u32| async move { Err::<(), _>(format!("down {n}")) };
        assert_eq!(retry(RetryPolicy::REQUESTS, "t", never, |_| true).await, Err("down 3".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn poll_until_ready_failed_or_timed_out() {
        let looks = AtomicU32::new(0);
        let status = || async {
            match looks.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Ok(Polled::Pending("saving")),
                _ => Ok(Polled::Ready("active")),
            }
        };
        let r: Result<&str, String> =
            poll_until(Backoff::DEFAULT, Duration::from_secs(60), status, |s: &str| format!("still {s}")).await;
        assert_eq!(r, Ok("active"));
        assert_eq!(looks.load(Ordering::SeqCst), 4);
        let started = tokio::time::Instant::now();
        let stuck = || async { Ok::<Polled<(), &str>, String>(Polled::Pending("saving")) };
        let r = poll_until(Backoff::DEFAULT, Duration::from_secs(30), stuck, |s| format!("still {s}")).await;
        assert_eq!(r, Err("still saving".into()));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(30) && waited < Duration::from_secs(36), "{waited:?}");
        let broken = || async { Err::<Polled<(), &str>, _>("killed".to_owned()) };
        assert_eq!(
            poll_until(Backoff::DEFAULT, Duration::from_secs(30), broken, |s| s.to_owned()).await,
            Err("killed".into())
        );
    }
}
