//! The task that keeps the cached id set of a table ([`kit::RandomIds`]) coherent with
//! writes made by other replicas.
//!
//! A random pick is then one primary-key lookup: no `ORDER BY random()`, no `OFFSET`,
//! no count per request. Own writes update the set at once; other writers reach it
//! through the table's trigger, which sends `+id`, `-id` or `*` (truncate) on a
//! `LISTEN` channel, typically within milliseconds.

use std::time::Duration;

use futures_util::{stream, StreamExt};
use kit::RandomIds;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

/// Applies one trigger notification to `ids`: `+id`, `-id` or `*` for "table emptied".
pub fn apply(ids: &RandomIds, payload: &str) {
    match payload.split_at_checked(1) {
        Some(("+", id)) => {
            if let Ok(id) = id.parse() {
                ids.insert(id);
            }
        }
        Some(("-", id)) => {
            if let Ok(id) = id.parse() {
                ids.remove(id);
            }
        }
        Some(("*", _)) => ids.replace([]),
        _ => log::warn!("ignoring malformed id notification '{payload}'"),
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
        apply(ids, &payload);
    }
    match driver.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_notifications() {
        let ids = RandomIds::default();
        apply(&ids, "+5");
        apply(&ids, "+7");
        apply(&ids, "-5");
        apply(&ids, "garbage");
        apply(&ids, "+x");
        assert_eq!(ids.with_ids(<[i64]>::to_vec), vec![7]);
        apply(&ids, "*");
        assert!(ids.is_empty());
    }
}
