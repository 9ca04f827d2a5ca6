//! Group commit: one task stores whatever fights are queued with one `insert_many`, so
//! that under load many requests share one MongoDB round trip while each still answers
//! only once its fight is acknowledged.
//!
//! Under load the writer also lingers a moment for more fights before it inserts: a
//! MongoDB server spends more CPU per insert command than per fight it carries, so fuller
//! batches cost it less per fight (`bench/README.md` has the figures for the stand-in).
//! It lingers only while the previous insert carried more than one fight, so a fight
//! arriving alone is written at once.
//!
//! The wins of the stored fights are tallied ([`stats::Tally`]) and added to the
//! statistics counters once per `flush` interval rather than once per insert: a counter
//! command costs about as much as an insert, so counting every batch would double the
//! commands of the fight path, while a tally counts each winner once per interval however
//! often it won. It is sent `COUNT_CHUNK` winners to a command, one
//! command between two inserts, because the stand-in runs one command per database at a
//! time and one upsert of every winner at once held the inserts behind it. The tally
//! keeps at most `TALLY_MAX` winners between inserts (past it, chunks go out at once), so
//! its memory is bounded whatever names are posted. The statistics are answered from a
//! snapshot refreshed about once a second anyway; what is tallied when the writer ends
//! is counted before it returns.
//!
//! A 503 means the fight is not stored, so that a client may retry it without making a
//! duplicate. A fight is either still queued, and then its request may give up on it at
//! its deadline ([`Claim`]: the writer will skip it), or taken into an insert, and then its
//! request waits for that insert's outcome. An insert that outlives the MongoDB timeout
//! has an unknown outcome: its fights are deleted again by id, and only once MongoDB
//! acknowledged that are they answered as not stored.

use std::{
    sync::{
        atomic::{
            AtomicU8,
            Ordering::{AcqRel, Acquire},
        },
        Arc,
    },
    time::Duration,
};

use mongodb::{
    bson::{doc, oid::ObjectId},
    Collection,
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{stats, Inserts};
use crate::{error::Error, model::FightDoc};

/// Most fights written with one `insert_many`.
const BATCH: usize = 64;
/// Most winners counted with one `update`.
const COUNT_CHUNK: usize = 4;
/// Most winners tallied between two inserts; past it they are counted at once.
const TALLY_MAX: usize = 1_024;

/// One fight waiting for the writer task, with where to send it back once stored.
pub struct Pending {
    pub doc: FightDoc,
    pub claim: Arc<Claim>,
    pub done: oneshot::Sender<Result<FightDoc, Error>>,
}

/// Who decides a queued fight's fate: the writer taking it into an insert, or its request
/// giving up on it at its deadline. Whichever comes first wins, once, so a fight its
/// request answered 503 is never handed to an insert, and a fight handed to an insert is
/// always waited for.
#[derive(Debug, Default)]
pub struct Claim(AtomicU8);

const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const GIVEN_UP: u8 = 2;

impl Claim {
    /// The writer takes the fight; false when its request gave up on it.
    fn take(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, TAKEN, AcqRel, Acquire)
            .is_ok()
    }

    /// The request gives up on the fight; false when an insert already holds it, and the
    /// request must wait for that insert's outcome.
    pub fn give_up(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, GIVEN_UP, AcqRel, Acquire)
            .is_ok()
    }
}

/// The writer task: takes whatever is queued (up to `BATCH`; while the previous insert
/// carried more than one fight, what arrives within `linger` too), stores it with one
/// `insert_many` bounded by `timeout` ([`store`]) and answers every waiting request.
/// Fights whose request stopped waiting or gave up are left out. Once the requests are
/// answered, the batch's wins are tallied, and added to the statistics counters when
/// `flush` has passed since the last time (0: after every batch), also while no fight
/// arrives. Ends when the store is dropped, after counting what is tallied.
pub async fn write_batches(
    fights: Collection<FightDoc>,
    mut queue: mpsc::Receiver<Pending>,
    timeout: Duration,
    linger: Duration,
    flush: Duration,
    inserts: Arc<Inserts>,
) {
    let database = fights.client().database(fights.namespace().db.as_str());
    let count = |tally: &mut stats::Tally| {
        let command = tally.take_command(COUNT_CHUNK);
        stats::count(&database, command, timeout, &inserts.counter_failures)
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut busy = false;
    let mut tally = stats::Tally::default();
    let mut next_count = Instant::now();
    loop {
        // Once due (or past its bound), one chunk of the tally between two inserts.
        let due = Instant::now() >= next_count || tally.len() > TALLY_MAX;
        if !tally.is_empty() && due {
            count(&mut tally).await;
            while tally.len() > TALLY_MAX {
                count(&mut tally).await;
            }
            if tally.is_empty() {
                next_count = Instant::now() + flush;
            }
        }
        let received = if tally.is_empty() {
            queue.recv_many(&mut batch, BATCH).await
        } else {
            let more = queue.recv_many(&mut batch, BATCH);
            match tokio::time::timeout_at(next_count, more).await {
                Ok(received) => received,
                Err(_) => continue,
            }
        };
        if received == 0 {
            break;
        }
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
        batch.retain(|pending| !pending.done.is_closed() && pending.claim.take());
        if batch.is_empty() {
            continue;
        }
        let docs: Vec<&FightDoc> = batch.iter().map(|p| &p.doc).collect();
        let outcome = store(&fights, &docs, timeout, &inserts).await;
        if outcome.is_ok() {
            docs.iter().for_each(|doc| tally.add(doc));
        }
        for pending in batch.drain(..) {
            let answer = outcome.clone().map(|()| pending.doc);
            let _ = pending.done.send(answer);
        }
    }
    while !tally.is_empty() {
        count(&mut tally).await;
    }
}

/// Inserts `docs` with one round trip bounded by `timeout`. An insert that failed or
/// timed out may still have written some of them (a connection lost after sending, a
/// server still working): its fights are then deleted again by id, and the error says
/// whether MongoDB acknowledged that (not stored) or not ([`Error::StoreUnknown`]).
pub async fn store(
    fights: &Collection<FightDoc>,
    docs: &[&FightDoc],
    timeout: Duration,
    inserts: &Inserts,
) -> Result<(), Error> {
    let insert = fights.insert_many(docs.iter().copied());
    let failure = match inserts
        .timed(docs.len(), tokio::time::timeout(timeout, insert))
        .await
    {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(err)) => Error::Store(err),
        Err(_) => Error::StoreTimeout(timeout),
    };
    let ids: Vec<ObjectId> = docs.iter().map(|doc| doc.id).collect();
    let withdraw = fights.delete_many(doc! { "_id": { "$in": ids } });
    match tokio::time::timeout(timeout, withdraw).await {
        Ok(Ok(_)) => Err(failure),
        _ => Err(Error::StoreUnknown(timeout)),
    }
}
