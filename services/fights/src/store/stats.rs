//! The fight statistics as counters kept beside the fights, and the bounded read of them.
//!
//! Anyone may POST fights under new winner names, so nothing the statistics cost may grow
//! with the number of names or of fights. Every stored batch of fights adds its wins to
//! counters in the collection [`COUNTERS`], with one `update` command of upserts: a
//! document per winner (`wins`, and `rank`, its negation) and one document of the teams'
//! totals. Reading the statistics is then two small commands whatever is stored: the
//! totals by `_id`, and the ten first winners of the index `{rank: 1, name: 1, team: 1}`.
//! The index is ascending on `rank` rather than descending on `wins` because the local
//! MongoDB-compatible server keeps every index ascending: sorted by `wins` down and names
//! up it sorts the whole group of tied winners (every name with one win) per read, while
//! this order walks ten index entries. Both mean the same on MongoDB 7.
//!
//! The counters live in MongoDB, so every replica reads the same statistics. They count
//! the fights whose batch's counter update MongoDB acknowledged; an update that fails is
//! logged and counted (`fights_stats_counter_failures_total`), and its fights are stored
//! but missing from the statistics.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, Bson, Document},
    Collection, Database, IndexModel,
};

use super::bounded;
use crate::{
    error::Error,
    fight::{HEROES, VILLAINS},
    model::FightDoc,
    stats::{Stats, Winner, Wins, TOP_WINNERS},
};

/// The collection of the statistics counters.
pub(super) const COUNTERS: &str = "FightStats";
/// The `_id` of the teams' totals; winners' `_id`s are `team:name`.
const TOTALS: &str = "teams";

/// The statistics query, cheap to clone so that a refresh runs on a task of its own
/// while the store keeps serving fights.
#[derive(Clone)]
pub struct StatsQuery {
    counters: Collection<Document>,
    timeout: Duration,
}

impl StatsQuery {
    pub(super) fn new(counters: Collection<Document>, timeout: Duration) -> Self {
        Self { counters, timeout }
    }

    /// The statistics of every counted fight: the totals and the top winners, each read
    /// waiting at most the MongoDB timeout.
    pub async fn run(&self) -> Result<Stats, Error> {
        let totals = bounded(self.timeout, self.counters.find_one(doc! { "_id": TOTALS }))
            .await?
            .unwrap_or_default();
        let wins = Wins {
            heroes: integer(totals.get(HEROES)),
            villains: integer(totals.get(VILLAINS)),
        };
        let top = bounded(self.timeout, async {
            self.counters
                .find(doc! { "rank": { "$lt": 0 } })
                .sort(doc! { "rank": 1, "name": 1, "team": 1 })
                .limit(TOP_WINNERS as i64)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        })
        .await?;
        let top = top.iter().filter_map(winner).collect();
        Ok(Stats::new(wins, top, Vec::new()))
    }
}

/// A winner's counter document, `None` for one of no known team.
fn winner(counter: &Document) -> Option<Winner> {
    let team = match counter.get_str("team").ok()? {
        HEROES => HEROES,
        VILLAINS => VILLAINS,
        _ => return None,
    };
    Some(Winner {
        name: counter.get_str("name").ok()?.to_owned(),
        team,
        wins: integer(counter.get("wins")),
    })
}

/// A counter's value: the server may answer a small one as a 32-bit integer.
fn integer(value: Option<&Bson>) -> i64 {
    match value {
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}

/// The wins of fights stored but not yet added to the counters, per winner (team, name).
#[derive(Debug, Default)]
pub(super) struct Tally {
    winners: BTreeMap<(String, String), i64>,
}

impl Tally {
    pub(super) fn add(&mut self, fight: &FightDoc) {
        let key = (fight.winner_team.clone(), fight.winner_name.clone());
        *self.winners.entry(key).or_default() += 1;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.winners.is_empty()
    }

    /// Distinct winners tallied.
    pub(super) fn len(&self) -> usize {
        self.winners.len()
    }

    /// The command adding the wins of at most `most` winners to the counters, and those
    /// wins taken out of the tally: one `update` of one upsert per winner and one for the
    /// teams' totals of the same wins, so the counters stay consistent and one command's
    /// cost stays bounded.
    pub(super) fn take_command(&mut self, most: usize) -> Document {
        let (mut heroes, mut villains) = (0_i64, 0_i64);
        let mut updates = Vec::with_capacity(most.min(self.winners.len()) + 1);
        while updates.len() < most {
            let Some(((team, name), wins)) = self.winners.pop_first() else {
                break;
            };
            match team.as_str() {
                HEROES => heroes += wins,
                _ => villains += wins,
            }
            updates.push(doc! {
                "q": { "_id": format!("{team}:{name}") },
                "u": {
                    "$inc": { "wins": wins, "rank": -wins },
                    "$setOnInsert": { "name": name, "team": team },
                },
                "upsert": true,
            });
        }
        updates.push(doc! {
            "q": { "_id": TOTALS },
            "u": { "$inc": { HEROES: heroes, VILLAINS: villains } },
            "upsert": true,
        });
        doc! { "update": COUNTERS, "updates": updates, "ordered": false }
    }
}

/// Runs a [`Tally::take_command`] of fights stored, waiting at most `timeout`.
pub(super) async fn count(
    database: &Database,
    command: Document,
    timeout: Duration,
    failures: &AtomicU64,
) {
    let outcome = bounded(timeout, database.run_command(command)).await;
    let failed = match &outcome {
        Ok(reply) => reply.get_array("writeErrors").is_ok_and(|e| !e.is_empty()),
        Err(_) => true,
    };
    if failed {
        failures.fetch_add(1, Relaxed);
        match outcome {
            Ok(reply) => log::warn!("fight statistics not counted: {reply}"),
            Err(err) => log::warn!("fight statistics not counted: {err}"),
        }
    }
}

/// The index the top-winners read walks (also created by `database/fights-db/init.js`).
pub(super) fn counters_index() -> IndexModel {
    IndexModel::builder()
        .keys(doc! { "rank": 1, "name": 1, "team": 1 })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_script_creates_the_same_index() {
        let script = include_str!("../../../../database/fights-db/init.js");
        assert!(
            script
                .contains("getCollection('FightStats').createIndex({ rank: 1, name: 1, team: 1 })"),
            "database/fights-db/init.js must create the statistics counters' index"
        );
        assert_eq!(
            counters_index().keys,
            doc! { "rank": 1, "name": 1, "team": 1 }
        );
    }

    #[test]
    fn counters_read_as_winners() {
        let counter = doc! { "_id": "heroes:Yoda", "name": "Yoda", "team": "heroes", "wins": 3_i32, "rank": -3_i32 };
        assert_eq!(
            winner(&counter),
            Some(Winner {
                name: "Yoda".to_owned(),
                team: HEROES,
                wins: 3
            })
        );
        assert_eq!(winner(&doc! { "name": "X", "team": "others" }), None);
        assert_eq!(integer(Some(&Bson::Int64(1 << 40))), 1 << 40);
        assert_eq!(integer(None), 0);
    }
}
