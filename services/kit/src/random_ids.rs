//! The in-memory set of a table's ids that random picks draw from: a uniform pick is
//! one random index, insert and remove are O(1). How each service keeps it coherent
//! with its table lives with the service (PostgreSQL notifications, MariaDB polling).

use std::{
    collections::HashMap,
    future::Future,
    sync::{PoisonError, RwLock},
};

/// Draws of one random pick. Each miss after the first reloads the set first, so only
/// rows deleted concurrently with the pick can exhaust them.
const DRAWS: usize = 3;

/// Ids with O(1) uniform pick, insert and remove, shared by requests and the task that
/// follows the table.
#[derive(Debug, Default)]
pub struct RandomIds {
    inner: RwLock<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    ids: Vec<i64>,
    index: HashMap<i64, usize>,
}

impl Slots {
    fn insert(&mut self, id: i64) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.index.entry(id) {
            slot.insert(self.ids.len());
            self.ids.push(id);
        }
    }

    fn remove(&mut self, id: i64) {
        if let Some(at) = self.index.remove(&id) {
            self.ids.swap_remove(at);
            if let Some(&moved) = self.ids.get(at) {
                self.index.insert(moved, at);
            }
        }
    }
}

impl RandomIds {
    /// A uniformly drawn id, or `None` when the set is empty.
    pub fn pick(&self) -> Option<i64> {
        let slots = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if slots.ids.is_empty() {
            return None;
        }
        slots.ids.get(fastrand::usize(..slots.ids.len())).copied()
    }

    /// The row of a uniformly drawn id that still exists, or `None` when the table is
    /// empty. `get` reads a row by id; `reload` replaces the set with the table's ids.
    ///
    /// An empty set is reloaded first: the table may have been filled behind its back,
    /// and a database that cannot be reached then answers an error rather than "none".
    /// An id whose row is gone (deleted by another replica, its news still on the way)
    /// is dropped, and the set is reloaded before the next draw.
    pub async fn pick_row<T, E, Row, Reload>(
        &self,
        get: impl Fn(i64) -> Row,
        reload: impl Fn() -> Reload,
    ) -> Result<Option<T>, E>
    where
        Row: Future<Output = Result<Option<T>, E>>,
        Reload: Future<Output = Result<(), E>>,
    {
        if self.is_empty() {
            reload().await?;
        }
        for draw in 0..DRAWS {
            if draw > 0 {
                reload().await?;
            }
            let Some(id) = self.pick() else {
                return Ok(None);
            };
            if let Some(row) = get(id).await? {
                return Ok(Some(row));
            }
            self.remove(id);
        }
        Ok(None)
    }

    pub fn insert(&self, id: i64) {
        self.write().insert(id);
    }

    pub fn remove(&self, id: i64) {
        self.write().remove(id);
    }

    /// Replaces the whole set, after a full reload.
    pub fn replace(&self, ids: impl IntoIterator<Item = i64>) {
        let mut slots = Slots::default();
        for id in ids {
            slots.insert(id);
        }
        *self.write() = slots;
    }

    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` over the ids, in no particular order.
    pub fn with_ids<T>(&self, f: impl FnOnce(&[i64]) -> T) -> T {
        f(&self
            .inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .ids)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slots> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(ids: &RandomIds) -> Vec<i64> {
        let mut v = ids.with_ids(<[i64]>::to_vec);
        v.sort_unstable();
        v
    }

    #[test]
    fn insert_remove_and_replace_keep_the_index() {
        let ids = RandomIds::default();
        assert_eq!(ids.pick(), None);
        ids.replace([1, 51, 101]);
        ids.insert(51);
        ids.remove(1);
        ids.remove(999);
        assert_eq!(sorted(&ids), vec![51, 101]);
        let index_ok = ids
            .inner
            .read()
            .map(|s| s.ids.iter().enumerate().all(|(i, id)| s.index[id] == i))
            .unwrap_or(false);
        assert!(index_ok);
    }

    #[test]
    fn picks_every_id() {
        let ids = RandomIds::default();
        ids.replace([1, 2, 3]);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(ids.pick());
        }
        assert_eq!(seen.len(), 3);
    }

    #[tokio::test]
    async fn a_pick_skips_vanished_rows_and_reloads() {
        let ids = RandomIds::default();
        let table = RwLock::new(vec![7]);
        let reload = || async {
            ids.replace(table.read().map(|t| t.clone()).unwrap_or_default());
            Ok::<(), ()>(())
        };
        let get = |id: i64| async move { Ok::<_, ()>((id == 7).then_some("seven")) };
        assert_eq!(
            ids.pick_row(get, reload).await,
            Ok(Some("seven")),
            "empty set reloaded"
        );
        ids.replace([1, 2]);
        assert_eq!(
            ids.pick_row(get, reload).await,
            Ok(Some("seven")),
            "misses reload"
        );
        assert_eq!(sorted(&ids), vec![7]);
        if let Ok(mut t) = table.write() {
            t.clear();
        }
        ids.replace([]);
        assert_eq!(ids.pick_row(get, reload).await, Ok(None));
    }
}
