//! The fight statistics as MongoDB aggregations, and the index that makes them cheap.
//!
//! Three pipelines instead of one because the local MongoDB-compatible server gets a
//! single pipeline wrong or slow: it groups a compound `_id` (name and team) into one
//! group, and runs `$facet` or a `$project` after a `$group` 30 to 100 times slower.
//! Wins per team, then each team's top winners; [`Stats::new`] merges the two lists.
//! Every stage used here means the same on MongoDB 7.
//!
//! With the index `{winnerTeam: 1, winnerName: 1}` each pipeline reads only the index:
//! measured on the local server at 50,000 fights, the three took about 55 ms instead of
//! 1.1–1.4 s, a cost that otherwise grows with every stored fight and competes with the
//! fight inserts for the server's CPU.

use std::{future::Future, time::Duration};

use futures_util::TryStreamExt;
use mongodb::{bson::doc, Collection, IndexModel};
use serde::Deserialize;
use tokio::time::Instant;

use super::bounded;
use crate::{
    error::Error,
    fight::{HEROES, VILLAINS},
    model::{FightDoc, Stats, Winner, Wins, TOP_WINNERS},
};

/// One `$group` result: the grouped value and its count. `wins` arrives as a 32-bit
/// integer below 2^31 and as a 64-bit one above.
#[derive(Deserialize)]
struct Group {
    #[serde(rename = "_id")]
    key: Option<String>,
    wins: i64,
}

/// The statistics query, cheap to clone so that a refresh runs on a task of its own
/// while the store keeps serving fights.
#[derive(Clone)]
pub struct StatsQuery {
    fights: Collection<FightDoc>,
    timeout: Duration,
}

impl StatsQuery {
    pub(super) fn new(fights: Collection<FightDoc>, timeout: Duration) -> Self {
        Self { fights, timeout }
    }

    /// The statistics of every stored fight: the three pipelines one after the other,
    /// each waiting at most the MongoDB timeout, with a pause after each as long as it
    /// took.
    ///
    /// The local server runs the commands on one database one at a time: an insert that
    /// arrives during a pipeline waits for its end. Sent together, three pipelines made
    /// inserts wait for all of them (at 100,000 fights, inserts of four fights beside one
    /// refresh a second waited up to 47.8 ms with the pipelines at once, 21.9 ms one after
    /// the other). Back to back they still held the server for about 32 ms at 100,000
    /// fights: with the statistics asked 20 times a second beside k6 at 500 it/s, k6
    /// dropped 1 to 12 iterations a run and its p99 rose from 7-8 to 10-24 ms. With the
    /// pauses an insert waits for one pipeline at most and a refresh leaves the server
    /// at least half of its time: 0 to 3 dropped iterations, p99 8.7-18.5 ms (50,000 to
    /// 137,000 fights, `make load RATE=500 PROBE=/api/fights/stats`).
    pub async fn run(&self) -> Result<Stats, Error> {
        let (fights, wins) = self.paced(self.team_wins()).await?;
        let heroes = self.paced(self.top_winners(HEROES)).await?;
        let villains = bounded(self.timeout, self.top_winners(VILLAINS)).await?;
        Ok(Stats::new(fights, wins, heroes, villains))
    }

    /// Runs `pipeline`, waiting at most the MongoDB timeout, then leaves the server to
    /// the fight inserts for as long as it took.
    async fn paced<T>(&self, pipeline: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let started = Instant::now();
        let outcome = bounded(self.timeout, pipeline).await?;
        tokio::time::sleep(started.elapsed()).await;
        Ok(outcome)
    }

    /// All fights and the wins of each team. The groups are summed as they arrive, so
    /// fights stored by someone else with other team names cost no memory.
    async fn team_wins(&self) -> Result<(i64, Wins), Error> {
        let pipeline = [doc! { "$group": { "_id": "$winnerTeam", "wins": { "$sum": 1 } } }];
        let mut groups = self.fights.aggregate(pipeline).with_type::<Group>().await?;
        let (mut fights, mut wins) = (0_i64, Wins::default());
        while let Some(group) = groups.try_next().await? {
            fights = fights.saturating_add(group.wins);
            match group.key.as_deref() {
                Some(HEROES) => wins.heroes = group.wins,
                Some(VILLAINS) => wins.villains = group.wins,
                _ => {}
            }
        }
        Ok((fights, wins))
    }

    /// The [`TOP_WINNERS`] names of `team` with the most wins, ties by name.
    async fn top_winners(&self, team: &'static str) -> Result<Vec<Winner>, Error> {
        let pipeline = [
            doc! { "$match": { "winnerTeam": team } },
            doc! { "$group": { "_id": "$winnerName", "wins": { "$sum": 1 } } },
            doc! { "$sort": { "wins": -1, "_id": 1 } },
            doc! { "$limit": TOP_WINNERS as i64 },
        ];
        let groups: Vec<Group> = self
            .fights
            .aggregate(pipeline)
            .with_type::<Group>()
            .await?
            .try_collect()
            .await?;
        Ok(groups
            .into_iter()
            .filter_map(|group| {
                Some(Winner {
                    name: group.key?,
                    team,
                    wins: group.wins,
                })
            })
            .collect())
    }
}

/// The index the statistics pipelines read instead of the collection (also created by
/// `database/fights-db/init.js`).
pub(super) fn stats_index() -> IndexModel {
    IndexModel::builder()
        .keys(doc! { "winnerTeam": 1, "winnerName": 1 })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_script_creates_the_same_index() {
        let script = include_str!("../../../../database/fights-db/init.js");
        assert!(
            script.contains("createIndex({ winnerTeam: 1, winnerName: 1 })"),
            "database/fights-db/init.js must create the statistics index"
        );
        assert_eq!(
            stats_index().keys,
            doc! { "winnerTeam": 1, "winnerName": 1 }
        );
    }
}
