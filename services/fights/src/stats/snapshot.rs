//! The snapshot that keeps `GET /api/fights/stats` off the fight path.
//!
//! The statistics are two small MongoDB reads of the counters the fight writes keep
//! (`store::stats`), bounded whatever is stored; still, a request of a page polling them
//! should not cost MongoDB a round trip. Requests are answered from a snapshot in memory,
//! encoded once. A request finding the snapshot older than the refresh interval starts
//! one refresh in the background and is answered from the snapshot at once
//! (stale-while-revalidate); only a request finding no snapshot at all waits for one, at
//! most the MongoDB timeout. When nobody asks, nothing runs.
//!
//! A failed refresh keeps the snapshot for [`STALE_AFTER_FAILURE`] at most: statistics
//! that old, while MongoDB fails, are answered as unavailable rather than as current.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use kit::metrics::Family;
use tokio::sync::watch;

use crate::{error::Error, store::StatsQuery};

/// How old the snapshot may be when a refresh fails for it still to be answered.
const STALE_AFTER_FAILURE: Duration = Duration::from_secs(30);
/// Encoded size of the statistics with ten winners, to size the buffer once.
const STATS_BYTES: usize = 768;

/// The statistics snapshot and the one refresh that may be running.
pub struct StatsCache {
    query: StatsQuery,
    state: Mutex<Cache>,
    /// Changes at the end of every refresh, for the requests waiting for a first snapshot.
    settled: watch::Sender<()>,
    /// Shortest time between the end of one refresh and the start of the next.
    interval: Duration,
    /// Longest a request waits for a first snapshot.
    wait: Duration,
    refreshes: AtomicU64,
    failures: AtomicU64,
}

impl StatsCache {
    pub fn new(query: StatsQuery, interval: Duration, wait: Duration) -> Self {
        Self {
            query,
            state: Mutex::new(Cache::default()),
            settled: watch::Sender::new(()),
            interval,
            wait,
            refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// The statistics as a JSON body, or [`Error::StatsUnavailable`] when there are none
    /// to answer: MongoDB failed, or did not answer a first refresh in time.
    pub async fn get(self: &Arc<Self>) -> Result<Bytes, Error> {
        // Subscribed before looking, so that a refresh ending in between is not missed.
        let mut settled = self.settled.subscribe();
        let next = self.lock().next(Instant::now(), self.interval);
        match next {
            Next::Serve { body, refresh } => {
                if refresh {
                    self.refresh();
                }
                Ok(body)
            }
            Next::Wait { refresh } => {
                if refresh {
                    self.refresh();
                }
                let _ = tokio::time::timeout(self.wait, settled.changed()).await;
                self.lock().current().ok_or(Error::StatsUnavailable)
            }
            Next::Unavailable => Err(Error::StatsUnavailable),
        }
    }

    /// Runs one refresh on a task of its own; the caller has marked it as running.
    fn refresh(self: &Arc<Self>) {
        self.refreshes.fetch_add(1, Relaxed);
        let cache = self.clone();
        tokio::spawn(async move {
            let body = match cache.query.run().await {
                Ok(stats) => Some(kit::json::to_bytes(&stats, STATS_BYTES)),
                Err(err) => {
                    cache.failures.fetch_add(1, Relaxed);
                    log::warn!("fight statistics not refreshed: {err}");
                    None
                }
            };
            cache.lock().settle(Instant::now(), body);
            cache.settled.send_replace(());
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends the refresh counters in Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let counters = [
            (
                "fights_stats_refreshes_total",
                "Statistics refreshes started (MongoDB counter reads run).",
                self.refreshes.load(Relaxed),
            ),
            (
                "fights_stats_refresh_failures_total",
                "Statistics refreshes that failed or timed out.",
                self.failures.load(Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            Family::new(out, name, "counter", help).sample("", value);
        }
    }
}

/// The snapshot and the refresh rules, apart from tasks and clocks so that they are
/// tested without waiting.
#[derive(Default)]
struct Cache {
    snapshot: Option<Snapshot>,
    refreshing: bool,
    /// When the last refresh ended, whether it succeeded or not.
    settled_at: Option<Instant>,
}

struct Snapshot {
    body: Bytes,
    taken: Instant,
}

/// What a request does, decided by [`Cache::next`].
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Answer `body`; start a refresh first when `refresh`.
    Serve { body: Bytes, refresh: bool },
    /// There is no snapshot: start a refresh when `refresh`, then wait for it.
    Wait { refresh: bool },
    /// There is no snapshot and the last refresh failed less than an interval ago.
    Unavailable,
}

impl Cache {
    /// Decides what a request at `now` does; a refresh it is told to start counts as
    /// running from here on, so only one runs at a time.
    fn next(&mut self, now: Instant, interval: Duration) -> Next {
        let refresh = !self.refreshing
            && self
                .settled_at
                .is_none_or(|at| now.saturating_duration_since(at) >= interval);
        self.refreshing |= refresh;
        match &self.snapshot {
            Some(snapshot) => Next::Serve {
                body: snapshot.body.clone(),
                refresh,
            },
            None if self.refreshing => Next::Wait { refresh },
            None => Next::Unavailable,
        }
    }

    /// Records the end of the running refresh at `now`: its new `body`, or `None` when it
    /// failed.
    fn settle(&mut self, now: Instant, body: Option<Bytes>) {
        self.refreshing = false;
        self.settled_at = Some(now);
        match body {
            Some(body) => self.snapshot = Some(Snapshot { body, taken: now }),
            None => {
                let too_old =
                    |s: &Snapshot| now.saturating_duration_since(s.taken) >= STALE_AFTER_FAILURE;
                if self.snapshot.as_ref().is_some_and(too_old) {
                    self.snapshot = None;
                }
            }
        }
    }

    fn current(&self) -> Option<Bytes> {
        self.snapshot.as_ref().map(|snapshot| snapshot.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn serve(body: &'static str, refresh: bool) -> Next {
        Next::Serve {
            body: Bytes::from_static(body.as_bytes()),
            refresh,
        }
    }

    fn settled(cache: &mut Cache, at: Instant, body: Option<&'static str>) {
        cache.settle(at, body.map(|b| Bytes::from_static(b.as_bytes())));
    }

    #[test]
    fn the_first_request_starts_the_one_refresh_and_others_wait_for_it() {
        let (mut cache, t0) = (Cache::default(), Instant::now());
        assert_eq!(cache.next(t0, SECOND), Next::Wait { refresh: true });
        assert_eq!(cache.next(t0, SECOND), Next::Wait { refresh: false });
        settled(&mut cache, t0 + SECOND / 10, Some("a"));
        assert_eq!(cache.current(), Some(Bytes::from_static(b"a")));
        assert_eq!(cache.next(t0 + SECOND / 5, SECOND), serve("a", false));
    }

    #[test]
    fn an_old_snapshot_is_answered_while_one_refresh_runs() {
        let (mut cache, t0) = (Cache::default(), Instant::now());
        cache.next(t0, SECOND);
        settled(&mut cache, t0, Some("a"));
        assert_eq!(cache.next(t0 + SECOND / 2, SECOND), serve("a", false));
        assert_eq!(cache.next(t0 + SECOND, SECOND), serve("a", true));
        assert_eq!(cache.next(t0 + 3 * SECOND, SECOND), serve("a", false));
        settled(&mut cache, t0 + 3 * SECOND, Some("b"));
        assert_eq!(cache.next(t0 + 3 * SECOND, SECOND), serve("b", false));
    }

    #[test]
    fn a_failed_refresh_keeps_a_recent_snapshot_and_waits_an_interval() {
        let (mut cache, t0) = (Cache::default(), Instant::now());
        cache.next(t0, SECOND);
        settled(&mut cache, t0, Some("a"));
        cache.next(t0 + SECOND, SECOND);
        settled(&mut cache, t0 + 2 * SECOND, None);
        assert_eq!(cache.next(t0 + 2 * SECOND, SECOND), serve("a", false));
        assert_eq!(cache.next(t0 + 3 * SECOND, SECOND), serve("a", true));
    }

    #[test]
    fn a_failed_refresh_drops_an_old_snapshot() {
        let (mut cache, t0) = (Cache::default(), Instant::now());
        cache.next(t0, SECOND);
        settled(&mut cache, t0, Some("a"));
        let later = t0 + STALE_AFTER_FAILURE;
        assert_eq!(cache.next(later, SECOND), serve("a", true));
        settled(&mut cache, later, None);
        assert_eq!(cache.current(), None);
        assert_eq!(cache.next(later, SECOND), Next::Unavailable);
        assert_eq!(
            cache.next(later + SECOND, SECOND),
            Next::Wait { refresh: true }
        );
    }

    #[test]
    fn without_a_snapshot_a_failure_is_unavailable_until_the_next_interval() {
        let (mut cache, t0) = (Cache::default(), Instant::now());
        cache.next(t0, SECOND);
        settled(&mut cache, t0, None);
        assert_eq!(cache.next(t0 + SECOND / 2, SECOND), Next::Unavailable);
        assert_eq!(
            cache.next(t0 + SECOND, SECOND),
            Next::Wait { refresh: true }
        );
    }
}
