//! The set of ids a random pick draws from, kept in memory so that a pick costs one
//! primary-key lookup instead of a table scan.
//!
//! Coherence: writes made through this instance update the set at once. MariaDB cannot
//! push changes (no LISTEN/NOTIFY), so writes made by other replicas are found by
//! checking: the first pick after `IDS_REFRESH_MS` has passed since the last check reads
//! a fingerprint of the table's ids (count, max, XOR and sum, all answered from the
//! primary key) before it draws, and reloads the ids only when the fingerprint differs
//! from the set's. A row created elsewhere can therefore be drawn by every pick that
//! starts one interval after its commit. The check runs on demand, not on a timer, so a
//! service nobody asks for random locations sends its database nothing at all. A
//! deleted row is never returned, however stale the set: every pick reads the row by
//! primary key, and a miss drops the id and resynchronises before drawing again.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::{Duration, Instant},
};

use kit::RandomIds;

use crate::{
    error::Error,
    model::{Fingerprint, Location},
    store::Store,
};

/// The ids of every row ([`kit::RandomIds`]), when they are next to be checked against
/// the table, and how often they were reloaded; shared by all requests.
#[derive(Debug)]
pub struct LocationIds {
    set: RandomIds,
    reloads: AtomicU64,
    /// How long a check holds.
    every: Duration,
    /// Clock of `next_check_ms`.
    started: Instant,
    /// Milliseconds after `started` from which the next pick checks the fingerprint.
    next_check_ms: AtomicU64,
}

impl LocationIds {
    /// An empty set that checks for writes by other replicas at most every `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            set: RandomIds::default(),
            reloads: AtomicU64::new(0),
            every,
            started: Instant::now(),
            next_check_ms: AtomicU64::new(0),
        }
    }

    /// Number of ids held, for metrics.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Full reloads so far, for metrics: steadily rising while nothing is written means
    /// the fingerprints disagree.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Relaxed)
    }

    /// Records a row this instance created.
    pub fn insert(&self, id: i64) {
        self.set.insert(id);
    }

    /// Records a row this instance deleted (or found gone).
    pub fn remove(&self, id: i64) {
        self.set.remove(id);
    }

    /// Replaces the whole set, after a reload or a replacement of the table.
    pub fn replace(&self, ids: Vec<i64>) {
        self.set.replace(ids);
    }

    fn fingerprint(&self) -> Fingerprint {
        self.set.with_ids(Fingerprint::of)
    }

    /// Loads every id from the database.
    pub async fn reload(&self, store: &Store) -> Result<(), Error> {
        let ids = store.ids().await?;
        self.replace(ids);
        self.reloads.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Reloads when the table's fingerprint differs from the set's.
    async fn refresh(&self, store: &Store) -> Result<(), Error> {
        if store.fingerprint().await? != self.fingerprint() {
            self.reload(store).await?;
        }
        Ok(())
    }

    /// A uniformly random location, or none when the table is empty; see
    /// [`RandomIds::pick_row`] for how vanished rows are handled. Checks the table's
    /// fingerprint first when a check is due.
    pub async fn pick(&self, store: &Store) -> Result<Option<Location>, Error> {
        if self.claim_check() {
            if let Err(err) = self.refresh(store).await {
                log::warn!("random-id check failed, drawing from the ids held: {err:?}");
            }
        }
        self.set
            .pick_row(|id| store.get(id), || self.reload(store))
            .await
    }

    /// Whether a check is due, claiming it for the caller: of the picks that find it due
    /// at once, one checks and the others draw from the ids held.
    fn claim_check(&self) -> bool {
        let now = millis(self.started.elapsed());
        let due = self.next_check_ms.load(Relaxed);
        now >= due
            && self
                .next_check_ms
                .compare_exchange(
                    due,
                    now.saturating_add(millis(self.every)),
                    Relaxed,
                    Relaxed,
                )
                .is_ok()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_tracks_the_set() {
        let ids = LocationIds::new(Duration::from_secs(1));
        assert_eq!(ids.fingerprint(), Fingerprint::default());
        ids.replace(vec![1, 4]);
        let before = ids.fingerprint();
        assert_eq!(
            before,
            Fingerprint {
                count: 2,
                max: 4,
                xor: 5,
                sum: 5
            }
        );
        ids.replace(vec![2, 3]);
        assert_ne!(ids.fingerprint(), before);
    }

    #[test]
    fn one_check_per_interval() {
        let ids = LocationIds::new(Duration::from_secs(3600));
        assert!(ids.claim_check(), "the first pick checks");
        assert!(!ids.claim_check(), "picks within the interval do not");
        let ids = LocationIds::new(Duration::ZERO);
        assert!(
            ids.claim_check() && ids.claim_check(),
            "a zero interval checks every pick"
        );
    }
}
