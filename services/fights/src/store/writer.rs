//! Group commit: one task stores whatever fights are queued with one `insert_many`, so
//! that under load many requests share one MongoDB round trip while each still answers
//! only once its fight is acknowledged.
//!
//! Under load the writer also lingers a moment for more fights before it inserts: the
//! MongoDB stand-in spends about 750 µs of CPU per insert command and 350 µs per fight
//! (1,027 µs a fight in batches of one, 477 µs in batches of four; measured with pymongo
//! against nx-27017), and at 500 fights/s without lingering batches carried 1.7 fights.
//! It lingers only while the previous insert carried more than one fight, so a fight
//! arriving alone is written at once.

use std::{sync::Arc, time::Duration};

use mongodb::Collection;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::Inserts;
use crate::{error::Error, model::FightDoc};

/// Most fights written with one `insert_many`.
const BATCH: usize = 64;

/// One fight waiting for the writer task, with where to send it back once stored.
pub struct Pending {
    pub doc: FightDoc,
    pub done: oneshot::Sender<Result<FightDoc, Error>>,
}

/// The writer task: takes whatever is queued (up to `BATCH`; while the previous insert
/// carried more than one fight, what arrives within `linger` too), stores it with one
/// `insert_many` bounded by `timeout` and answers every waiting request. Fights whose
/// request stopped waiting are left out. Ends when the store is dropped.
pub async fn write_batches(
    fights: Collection<FightDoc>,
    mut queue: mpsc::Receiver<Pending>,
    timeout: Duration,
    linger: Duration,
    inserts: Arc<Inserts>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut busy = false;
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        if busy && !linger.is_zero() {
            let until = Instant::now() + linger;
            while batch.len() < BATCH {
                let room = BATCH - batch.len();
                match tokio::time::timeout_at(until, queue.recv_many(&mut batch, room)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        busy = batch.len() > 1;
        batch.retain(|pending| !pending.done.is_closed());
        if batch.is_empty() {
            continue;
        }
        let insert = fights.insert_many(batch.iter().map(|p| &p.doc));
        let outcome = inserts
            .timed(batch.len(), tokio::time::timeout(timeout, insert))
            .await;
        let outcome = match outcome {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(Error::Store(err)),
            Err(_) => Err(Error::StoreTimeout(timeout)),
        };
        for pending in batch.drain(..) {
            let answer = outcome.clone().map(|()| pending.doc);
            let _ = pending.done.send(answer);
        }
    }
}
