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

use crate::{error::Error, model::Location, store};

/// Draws before falling back to a scan; each miss after the first reloads the set, so
/// only ids deleted concurrently with the pick can exhaust them.
const MAX_DRAWS: usize = 3;

/// A summary of a set of ids that, in practice, changes whenever the set does. It is
/// computed from the ids in memory and, with the same formula, by the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub count: u64,
    pub max: i64,
    /// XOR of the ids' bit patterns.
    pub xor: u64,
    pub sum: i128,
}

impl Fingerprint {
    fn of(ids: &[i64]) -> Self {
        ids.iter().fold(Self::default(), |fp, &id| Self {
            count: fp.count + 1,
            max: fp.max.max(id),
            xor: fp.xor ^ id.cast_unsigned(),
            sum: fp.sum + i128::from(id),
        })
    }
}

/// The ids of every row ([`kit::RandomIds`]) and how often they were reloaded, shared by
/// all requests and the refresh task.
#[derive(Debug, Default)]
pub struct LocationIds {
    set: RandomIds,
    reloads: AtomicU64,
}

impl LocationIds {
    /// A uniformly drawn id, or none when the set is empty.
    fn draw(&self) -> Option<i64> {
        self.set.pick()
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

    /// A uniformly random location, or none when the table is empty. An empty set is
    /// reloaded first (the table may have been filled behind its back, and a database
    /// that cannot be reached then answers 503 rather than "no locations"); an id found
    /// gone reloads the set and draws again.
    pub async fn pick(&self, pool: &Pool) -> Result<Option<Location>, Error> {
        if self.draw().is_none() {
            self.reload(pool).await?;
        }
        for draw in 0..MAX_DRAWS {
            if draw > 0 {
                self.reload(pool).await?;
            }
            let Some(id) = self.draw() else {
                return Ok(None);
            };
            if let Some(location) = store::get(pool, id).await? {
                return Ok(Some(location));
            }
            self.remove(id);
        }
        Ok(None)
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
