//! The cached set of a table's ids that random picks draw from, and the task that keeps
//! it coherent with writes made by other replicas.
//!
//! A random pick is then one primary-key lookup: no `ORDER BY random()`, no `OFFSET`,
//! no count per request. Own writes update the set at once; other writers reach it
//! through the table's trigger, which sends `+id`, `-id` or `*` (truncate) on a
//! `LISTEN` channel, typically within milliseconds.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
    time::Duration,
};

use futures_util::{stream, StreamExt};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

/// Ids with O(1) uniform pick, insert and remove.
#[derive(Default)]
pub struct RandomIds {
    inner: RwLock<Slots>,
}

#[derive(Default)]
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
        Some(slots.ids[fastrand::usize(..slots.ids.len())])
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

    /// Applies one trigger notification: `+id`, `-id` or `*` for "table emptied".
    pub fn apply(&self, payload: &str) {
        match payload.split_at_checked(1) {
            Some(("+", id)) => {
                if let Ok(id) = id.parse() {
                    self.insert(id);
                }
            }
            Some(("-", id)) => {
                if let Ok(id) = id.parse() {
                    self.remove(id);
                }
            }
            Some(("*", _)) => self.replace([]),
            _ => log::warn!("ignoring malformed id notification '{payload}'"),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slots> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Notifications queued between the connection and the set; the connection waits
/// (and PostgreSQL buffers) when it is full.
const QUEUE: usize = 1024;
/// Pause before reconnecting a lost `LISTEN` connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Keeps `ids` coherent with `table` for as long as it runs: `LISTEN`, full reload,
/// then apply notifications; on any connection loss, reconnect and reload.
pub async fn follow(
    database: tokio_postgres::Config,
    table: &'static str,
    channel: &'static str,
    ids: std::sync::Arc<RandomIds>,
) {
    loop {
        if let Err(err) = listen(&database, table, channel, &ids).await {
            log::warn!("{channel}: id notifications interrupted ({err}); reconnecting");
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

async fn listen(
    database: &tokio_postgres::Config,
    table: &str,
    channel: &str,
    ids: &RandomIds,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = database.connect(NoTls).await?;
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    let driver = tokio::spawn(async move {
        let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(note) = message? {
                if tx.send(note.payload().to_owned()).await.is_err() {
                    break;
                }
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    // Loaded after LISTEN so that no change falls between the two; notifications that
    // arrive during the load wait in the queue and are applied after it.
    let rows = client
        .query(&format!("SELECT id FROM {table}"), &[])
        .await?;
    ids.replace(rows.iter().filter_map(|row| row.try_get::<_, i64>(0).ok()));
    log::info!("{channel}: {} ids loaded, following changes", ids.len());
    while let Some(payload) = rx.recv().await {
        ids.apply(&payload);
    }
    match driver.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(ids: &RandomIds) -> Vec<i64> {
        let mut v = ids.inner.read().map(|s| s.ids.clone()).unwrap_or_default();
        v.sort_unstable();
        v
    }

    #[test]
    fn insert_remove_and_replace() {
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

    #[test]
    fn applies_notifications() {
        let ids = RandomIds::default();
        ids.apply("+5");
        ids.apply("+7");
        ids.apply("-5");
        ids.apply("garbage");
        ids.apply("+x");
        assert_eq!(sorted(&ids), vec![7]);
        ids.apply("*");
        assert!(ids.is_empty());
    }
}
