//! The fight statistics as MongoDB aggregations, and the index that makes them cheap.
//!
//! One pipeline per team, grouping its fights by winner name: the team's wins are the sum
//! of its groups and its top winners the largest of them, so two pipelines give
//! everything and [`Stats::new`] merges the two top lists. Not one pipeline for both
//! teams because the local MongoDB-compatible server gets a single pipeline wrong or
//! slow: it groups a compound `_id` (name and team) into one group, and runs `$facet` or
//! a `$project` after a `$group` 30 to 100 times slower. Every stage used here means the
//! same on MongoDB 7.
//!
//! With the index `{winnerTeam: 1, winnerName: 1}` each pipeline reads only the index:
//! measured on the local server at 50,000 fights, the three pipelines of an earlier
//! refresh took about 55 ms instead of 1.1-1.4 s, a cost that otherwise grows with every
//! stored fight and competes with the fight inserts for the server's CPU.

use std::{future::Future, time::Duration};

use futures_util::TryStreamExt;
use mongodb::{bson::doc, Collection, IndexModel};
use serde::Deserialize;
use tokio::time::Instant;

use super::bounded;
use crate::{
    error::Error,
    fight::{HEROES, VILLAINS},
    model::{push_top, FightDoc, Stats, Winner, Wins},
};

/// One `$group` result: the grouped value and its count. `wins` arrives as a 32-bit
/// integer below 2^31 and as a 64-bit one above.
#[derive(Deserialize)]
struct Group {
    #[serde(rename = "_id")]
    key: Option<String>,
    wins: i64,
}

/// Groups a cursor batch may carry: a catalogue's names (about 120 a team in the seed)
/// arrive in one reply instead of the server's default first batch of 101 and a `getMore`.
const GROUP_BATCH: u32 = 1_000;

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

    /// The statistics of every stored fight: the two teams' pipelines one after the other,
    /// each waiting at most the MongoDB timeout, with a pause after the first as long as
    /// it took.
    ///
    /// The local server runs the commands on one database one at a time, so an insert
    /// that arrives during a pipeline waits for its end, and for every pipeline sent with
    /// it. One after the other and paced, an insert waits for one pipeline at most and a
    /// refresh leaves the server at least half of its time: beside the statistics asked
    /// 20 times a second, k6 at 500 it/s dropped 0 to 3 iterations a run instead of 1 to
    /// 12 with three pipelines back to back (`make load RATE=500 PROBE=/api/fights/stats`,
    /// 50,000 to 137,000 fights). Summing each team's groups instead of grouping by team
    /// saves a third pipeline: at 112,000 fights the server spent 30 ms of CPU a refresh
    /// instead of 35-42 ms.
    pub async fn run(&self) -> Result<Stats, Error> {
        let (heroes_won, heroes) = self.paced(self.team(HEROES)).await?;
        let (villains_won, villains) = bounded(self.timeout, self.team(VILLAINS)).await?;
        let wins = Wins {
            heroes: heroes_won,
            villains: villains_won,
        };
        Ok(Stats::new(wins, heroes, villains))
    }

    /// Runs `pipeline`, waiting at most the MongoDB timeout, then leaves the server to
    /// the fight inserts for as long as it took.
    async fn paced<T>(&self, pipeline: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let started = Instant::now();
        let outcome = bounded(self.timeout, pipeline).await?;
        tokio::time::sleep(started.elapsed()).await;
        Ok(outcome)
    }

    /// The fights `team` won and its [`TOP_WINNERS`](crate::model::TOP_WINNERS) names
    /// with the most wins, ties by name. The groups are folded as they arrive, so the
    /// memory is that of the top list however many names are stored.
    async fn team(&self, team: &'static str) -> Result<(i64, Vec<Winner>), Error> {
        let pipeline = [
            doc! { "$match": { "winnerTeam": team } },
            doc! { "$group": { "_id": "$winnerName", "wins": { "$sum": 1 } } },
        ];
        let mut groups = self
            .fights
            .aggregate(pipeline)
            .batch_size(GROUP_BATCH)
            .with_type::<Group>()
            .await?;
        let (mut wins, mut top) = (0_i64, Vec::new());
        while let Some(group) = groups.try_next().await? {
            wins = wins.saturating_add(group.wins);
            if let Some(name) = group.key {
                let wins = group.wins;
                push_top(&mut top, Winner { name, team, wins });
            }
        }
        Ok((wins, top))
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
