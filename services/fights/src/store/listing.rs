//! The unpaged listing of every fight, read from MongoDB one page at a time.
//!
//! One `find` of the whole collection is one command, and the local MongoDB stand-in
//! answers it by reading every fight before it sends the first batch, whatever the batch
//! size: a command whose time grows with the collection, which every insert of the fight
//! path then waits behind on that single-threaded server. A page of [`PAGE`] fights is a
//! short command, so inserts wait behind one page at most (`bench/README.md` has the
//! figures).
//!
//! Listings also take turns, one page read at a time for all of them ([`Turns`]), and
//! rest between pages, three times as long as the last page took, so that listings,
//! however many run and however many clients ask for them back to back, take at most a
//! quarter of MongoDB's time and an insert of the fight path waits behind one page at
//! most: on the single-threaded stand-in a listing read without rests takes the server's
//! time from the fight path, and listings resting each on their own still add up.
//!
//! Pages are read sorted by `_id` with a skip, the one cheap way to page on the stand-in
//! (a range on `_id` or on any field makes it read the whole collection per page). A fight
//! inserted below the position while a listing runs shifts the rest by one, and the fight
//! the next page repeats is left out: only `_id`s above the last one sent pass. A fight
//! added while the listing runs may or may not be in it, as with any cursor. On MongoDB a
//! skip walks the `_id` index, so a listing of n fights walks about n²/(2·PAGE) index
//! entries, cheap index reads beside the documents sent.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use futures_util::{stream, Stream, TryStreamExt};
use mongodb::{
    bson::{doc, oid::ObjectId},
    options::FindOptions,
    Collection,
};
use tokio::{sync::Mutex, time::Instant};

use super::bounded;
use crate::{
    error::Error,
    model::{Fight, FightDoc},
};

/// Fights read per page.
const PAGE: u32 = 200;
/// How many times as long as a page took the listings rest before any reads the next.
const REST: u32 = 3;

/// The page reads of every listing of one store, one at a time: the lock is held while
/// a page is read and keeps when the next may start. Waiting for it is fair (first
/// come, first served), so listings running together advance in turn.
pub struct Turns(Mutex<Instant>);

impl Turns {
    pub fn new() -> Self {
        Turns(Mutex::new(Instant::now()))
    }
}

/// Where a listing is: the fights of the current page still to send, how many fights
/// the pages so far covered, the last `_id` sent and whether the last page was short.
struct Position {
    page: VecDeque<FightDoc>,
    skip: u64,
    last: Option<ObjectId>,
    done: bool,
}

/// Every fight in `_id` order, a page read, in its turn, whenever the stream has sent
/// the previous one; each page read waits at most `timeout`. The first page is read
/// before the stream is returned, so that a MongoDB failure is an error answer rather
/// than a cut-off body.
pub async fn every_fight(
    fights: Collection<FightDoc>,
    turns: Arc<Turns>,
    timeout: Duration,
) -> Result<impl Stream<Item = Result<Fight, Error>>, Error> {
    let mut position = Position::start();
    position.read_page(&fights, &turns, timeout).await?;
    Ok(stream::try_unfold(
        (position, fights, turns),
        move |(mut position, fights, turns)| async move {
            loop {
                if let Some(doc) = position.page.pop_front() {
                    return Ok(Some((Fight::from(doc), (position, fights, turns))));
                }
                if position.done {
                    return Ok(None);
                }
                position.read_page(&fights, &turns, timeout).await?;
            }
        },
    ))
}

impl Position {
    /// Before the first page.
    fn start() -> Self {
        Position {
            page: VecDeque::new(),
            skip: 0,
            last: None,
            done: false,
        }
    }

    /// Reads the next page in its turn, once the rest after the last page of any listing
    /// is over, keeping only fights above the last one sent.
    async fn read_page(
        &mut self,
        fights: &Collection<FightDoc>,
        turns: &Turns,
        timeout: Duration,
    ) -> Result<(), Error> {
        let mut next = turns.0.lock().await;
        tokio::time::sleep_until(*next).await;
        let started = Instant::now();
        let options = FindOptions::builder()
            .sort(doc! { "_id": 1 })
            .skip(self.skip)
            .limit(i64::from(PAGE))
            .batch_size(PAGE)
            .build();
        let docs: Result<Vec<FightDoc>, Error> = bounded(timeout, async {
            fights
                .find(doc! {})
                .with_options(options)
                .await?
                .try_collect()
                .await
        })
        .await;
        *next = Instant::now() + started.elapsed() * REST;
        drop(next);
        let docs = docs?;
        self.skip += docs.len() as u64;
        self.done = docs.len() < PAGE as usize;
        self.accept(docs);
        Ok(())
    }

    /// Queues the fights of a page sorted by `_id`, those not above the last one sent
    /// left out.
    fn accept(&mut self, docs: Vec<FightDoc>) {
        for doc in docs {
            if self.last.is_none_or(|last| doc.id > last) {
                self.last = Some(doc.id);
                self.page.push_back(doc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::DateTime;

    use super::*;

    fn doc(id: ObjectId) -> FightDoc {
        FightDoc {
            id,
            fight_date: DateTime::from_millis(0),
            winner_name: "Yoda".to_owned(),
            winner_level: 2,
            winner_powers: None,
            winner_picture: None,
            winner_team: "heroes".to_owned(),
            loser_name: "Vader".to_owned(),
            loser_level: 1,
            loser_powers: None,
            loser_picture: None,
            loser_team: "villains".to_owned(),
            location: None,
        }
    }

    #[test]
    fn a_fight_repeated_by_a_shifted_page_is_sent_once() {
        let ids: Vec<ObjectId> = (0..4).map(|_| ObjectId::new()).collect();
        let mut position = Position::start();
        position.accept(vec![doc(ids[0]), doc(ids[1])]);
        position.accept(vec![doc(ids[1]), doc(ids[2]), doc(ids[3])]);
        let sent: Vec<ObjectId> = position.page.iter().map(|doc| doc.id).collect();
        assert_eq!(sent, ids);
    }
}
