//! Several uploads at once: each gets an id and a cancel token, waits for one of a number of
//! slots (changeable while uploads wait), and leaves the queue when it ends. The app and the
//! CLI (`--parallel`) share this one queue.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::error::{Error, Result};

/// The most uploads that may run at once.
pub const MAX_PARALLEL: usize = 8;

/// An upload's place in the queue.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: String,
    /// Cancels this upload, whether it waits or runs.
    pub cancel: CancellationToken,
}

pub struct Queue {
    slots: Mutex<Arc<Semaphore>>,
    waiting_or_running: Mutex<HashMap<String, CancellationToken>>,
    next: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Queue {
    /// `parallel` uploads at once (1 to [`MAX_PARALLEL`]).
    pub fn new(parallel: usize) -> Queue {
        let n = parallel.clamp(1, MAX_PARALLEL);
        Queue {
            slots: Mutex::new(Arc::new(Semaphore::new(n))),
            waiting_or_running: Mutex::default(),
            next: AtomicU64::new(1),
        }
    }

    /// Change how many run at once; uploads already waiting keep their turn in the old line.
    /// Returns the number in force.
    pub fn set_parallel(&self, parallel: usize) -> usize {
        let n = parallel.clamp(1, MAX_PARALLEL);
        *lock(&self.slots) = Arc::new(Semaphore::new(n));
        n
    }

    /// A new upload joins: its id (`u1`, `u2`, …) and cancel token, a child of `parent` when
    /// given (the CLI's Ctrl-C cancels them all).
    pub fn enter(&self, parent: Option<&CancellationToken>) -> Ticket {
        let id = format!("u{}", self.next.fetch_add(1, Ordering::Relaxed));
        let cancel = parent.map(CancellationToken::child_token).unwrap_or_default();
        lock(&self.waiting_or_running).insert(id.clone(), cancel.clone());
        Ticket { id, cancel }
    }

    /// Wait for a slot, then run `job`; cancelled while waiting is [`Error::Cancelled`]. The
    /// ticket leaves the queue when this ends, however it ends.
    pub async fn run<T>(&self, ticket: &Ticket, job: impl Future<Output = Result<T>>) -> Result<T> {
        let slots = lock(&self.slots).clone();
        let r = tokio::select! {
            biased;
            _ = ticket.cancel.cancelled() => Err(Error::Cancelled),
            slot = slots.acquire_owned() => {
                let _slot = slot;
                job.await
            }
        };
        lock(&self.waiting_or_running).remove(&ticket.id);
        r
    }

    /// Cancel one upload; false when it is not (or no longer) in the queue.
    pub fn cancel(&self, id: &str) -> bool {
        match lock(&self.waiting_or_running).get(id) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancel every upload, waiting or running; how many there were.
    pub fn cancel_all(&self) -> usize {
        let all = lock(&self.waiting_or_running);
        for c in all.values() {
            c.cancel();
        }
        all.len()
    }

    /// Wait until no upload is left (each has ended, its cleanup done), at most `limit`; true
    /// when the queue emptied.
    pub async fn drained(&self, limit: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + limit;
        while !self.is_empty() {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        true
    }

    /// The uploads waiting or running.
    pub fn len(&self) -> usize {
        lock(&self.waiting_or_running).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn at_most_parallel_run_and_a_waiting_one_can_be_cancelled() {
        let q = Arc::new(Queue::new(2));
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tickets: Vec<Ticket> = (0..5).map(|_| q.enter(None)).collect();
        assert_eq!(q.len(), 5);
        assert_eq!(tickets.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["u1", "u2", "u3", "u4", "u5"]);
        assert!(q.cancel("u5"));
        let jobs = tickets.into_iter().map(|t| {
            let (q, running, peak) = (q.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                q.run(&t, async {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
            })
        });
        let results: Vec<Result<()>> =
            futures_util::future::join_all(jobs).await.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert!(results[..4].iter().all(Result::is_ok));
        assert!(matches!(results[4], Err(Error::Cancelled)));
        assert!(q.is_empty(), "every ticket left the queue");
        assert!(!q.cancel("u1"));
        assert_eq!(q.set_parallel(99), MAX_PARALLEL);
    }

    #[test]
    fn a_parent_token_cancels_its_tickets() {
        let q = Queue::new(1);
        let ctrl_c = CancellationToken::new();
        let (a, b) = (q.enter(Some(&ctrl_c)), q.enter(None));
        ctrl_c.cancel();
        assert!(a.cancel.is_cancelled() && !b.cancel.is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_all_ends_every_upload_and_drained_says_when() {
        let q = Arc::new(Queue::new(1));
        let mut jobs = Vec::new();
        for _ in 0..3 {
            let (q2, t) = (q.clone(), q.enter(None));
            jobs.push(tokio::spawn(async move {
                let cancel = t.cancel.clone();
                q2.run(&t, async move {
                    cancel.cancelled().await;
                    // The cleanup after a cancel takes a moment.
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Err::<(), _>(Error::Cancelled)
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!q.drained(Duration::from_secs(1)).await, "nothing ends by itself");
        assert_eq!(q.cancel_all(), 3);
        assert!(q.drained(Duration::from_secs(10)).await);
        for j in jobs {
            assert!(matches!(j.await.unwrap(), Err(Error::Cancelled)));
        }
    }
}
