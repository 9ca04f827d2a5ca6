//! The set of ids a random pick draws from, kept in memory so that a pick costs one
//! primary-key lookup instead of a table scan.
//!
//! Coherence: writes made through this instance update the set at once. MariaDB cannot
//! push changes (no LISTEN/NOTIFY), so writes made by other replicas are found by
//! polling: every `IDS_REFRESH_MS` a background task reads a fingerprint of the table's
//! ids (count, max, XOR and sum, all answered from the primary key) and reloads the ids
//! only when it differs from the fingerprint of the set in memory. A row created
//! elsewhere can therefore be drawn at the latest one refresh interval plus the time of
//! the two queries after its commit. A deleted row is never returned, however stale
//! the set: every pick reads the row by primary key, and a miss drops the id and
//! resynchronises before drawing again.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use kit::RandomIds;
use mysql_async::Pool;

use crate::{
    error::Error,
    model::{Fingerprint, Location},
    store,
};

/// The ids of every row ([`kit::RandomIds`]) and how often they were reloaded, shared by
/// all requests and the refresh task.
#[derive(Debug, Default)]
pub struct LocationIds {
    set: RandomIds,
    reloads: AtomicU64,
}

impl LocationIds {
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
    pub async fn reload(&self, pool: &Pool) -> Result<(), Error> {
        let ids = store::ids(pool).await?;
        self.replace(ids);
        self.reloads.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Reloads when the table's fingerprint differs from the set's.
    async fn refresh(&self, pool: &Pool) -> Result<(), Error> {
        if store::fingerprint(pool).await? != self.fingerprint() {
            self.reload(pool).await?;
        }
        Ok(())
    }

    /// A uniformly random location, or none when the table is empty; see
    /// [`RandomIds::pick_row`] for how vanished rows are handled.
    pub async fn pick(&self, pool: &Pool) -> Result<Option<Location>, Error> {
        self.set
            .pick_row(|id| store::get(pool, id), || self.reload(pool))
            .await
    }

    /// Polls for writes by other replicas every `every` until the task is aborted.
    pub async fn keep_coherent(&self, pool: Pool, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticks.tick().await;
            match self.refresh(&pool).await {
                Ok(()) if failing => {
                    log::info!("random-id refresh works again");
                    failing = false;
                }
                Ok(()) => {}
                Err(err) if !failing => {
                    log::warn!("random-id refresh failed, retrying every {every:?}: {err:?}");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_tracks_the_set() {
        let ids = LocationIds::default();
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
}
