//! The values of the fights service: fighters and locations as the other services send
//! them, the POST body, the outcome of a fight, a fight as the API answers it and as
//! MongoDB stores it, the conversion between the two, and the fight statistics.

use std::cmp::Ordering;

use mongodb::bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

/// A hero or villain as heroes and villains serve it; fields the fight does not use
/// (such as `id` or `otherName`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fighter {
    pub name: String,
    pub level: i64,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub powers: Option<String>,
}

/// Where a fight takes place, as the locations service serves it (extra fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FightLocation {
    pub name: String,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub picture: Option<String>,
}

impl Fighter {
    /// A guess of the encoded size from the field lengths, so a response buffer is
    /// allocated once whatever the fighter holds.
    pub fn json_size(&self) -> usize {
        64 + self.name.len()
            + kit::json::text_len(&self.picture)
            + kit::json::text_len(&self.powers)
    }
}

impl FightLocation {
    /// A guess of the encoded size, as [`Fighter::json_size`].
    pub fn json_size(&self) -> usize {
        48 + self.name.len()
            + kit::json::text_len(&self.description)
            + kit::json::text_len(&self.picture)
    }
}

/// The answer of `GET /api/fights/randomfighters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fighters {
    pub hero: Fighter,
    pub villain: Fighter,
}

/// The body of `POST /api/fights`, every field optional so that a missing one becomes a
/// violation naming it rather than a bare parse error.
#[derive(Debug, Default, Deserialize)]
pub struct FightRequest {
    pub hero: Option<FighterInput>,
    pub villain: Option<FighterInput>,
    pub location: Option<FightLocation>,
}

/// A fighter in a POST body before validation.
#[derive(Debug, Default, Deserialize)]
pub struct FighterInput {
    pub name: Option<String>,
    pub level: Option<i64>,
    pub picture: Option<String>,
    pub powers: Option<String>,
}

/// What the fight rule decided: the winner and the loser with their teams, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub winner: Fighter,
    pub winner_team: &'static str,
    pub loser: Fighter,
    pub loser_team: &'static str,
    pub location: Option<FightLocation>,
}

/// A fight as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fight {
    /// The MongoDB ObjectId as 24 hex digits.
    pub id: String,
    /// ISO-8601 UTC with milliseconds.
    pub fight_date: String,
    pub winner_name: String,
    pub winner_level: i64,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub winner_powers: Option<String>,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub winner_picture: Option<String>,
    pub winner_team: String,
    pub loser_name: String,
    pub loser_level: i64,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub loser_powers: Option<String>,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub loser_picture: Option<String>,
    pub loser_team: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<FightLocation>,
}

/// A fight as stored: the API's field names, `_id` an ObjectId and `fightDate` a BSON
/// date so that MongoDB tools and the original system read it as their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FightDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub fight_date: DateTime,
    pub winner_name: String,
    pub winner_level: i64,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub winner_powers: Option<String>,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub winner_picture: Option<String>,
    pub winner_team: String,
    pub loser_name: String,
    pub loser_level: i64,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub loser_powers: Option<String>,
    #[serde(default, skip_serializing_if = "kit::json::is_blank")]
    pub loser_picture: Option<String>,
    pub loser_team: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FightLocation>,
}

impl FightDoc {
    /// The document of `outcome`, stored under `id` as fought at `fight_date`.
    pub fn new(outcome: Outcome, id: ObjectId, fight_date: DateTime) -> Self {
        let Outcome {
            winner,
            winner_team,
            loser,
            loser_team,
            location,
        } = outcome;
        Self {
            id,
            fight_date,
            winner_name: winner.name,
            winner_level: winner.level,
            winner_powers: winner.powers,
            winner_picture: winner.picture,
            winner_team: winner_team.to_owned(),
            loser_name: loser.name,
            loser_level: loser.level,
            loser_powers: loser.powers,
            loser_picture: loser.picture,
            loser_team: loser_team.to_owned(),
            location,
        }
    }
}

impl Fight {
    /// A guess of the encoded size, as [`Fighter::json_size`].
    pub fn json_size(&self) -> usize {
        256 + self.winner_name.len()
            + self.loser_name.len()
            + [
                &self.winner_powers,
                &self.winner_picture,
                &self.loser_powers,
                &self.loser_picture,
            ]
            .into_iter()
            .map(kit::json::text_len)
            .sum::<usize>()
            + self.location.as_ref().map_or(0, FightLocation::json_size)
    }
}

impl From<FightDoc> for Fight {
    fn from(doc: FightDoc) -> Self {
        Fight {
            id: doc.id.to_hex(),
            fight_date: iso_millis(doc.fight_date.timestamp_millis()),
            winner_name: doc.winner_name,
            winner_level: doc.winner_level,
            winner_powers: doc.winner_powers,
            winner_picture: doc.winner_picture,
            winner_team: doc.winner_team,
            loser_name: doc.loser_name,
            loser_level: doc.loser_level,
            loser_powers: doc.loser_powers,
            loser_picture: doc.loser_picture,
            loser_team: doc.loser_team,
            location: doc.location,
        }
    }
}

/// The winners listed in [`Stats::top_winners`].
pub const TOP_WINNERS: usize = 10;

/// The answer of `GET /api/fights/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Every stored fight: each is won by one of the two teams.
    pub fights: i64,
    pub wins: Wins,
    /// The [`TOP_WINNERS`] fighters with the most wins, most first; ties by name, then team.
    pub top_winners: Vec<Winner>,
}

/// Fights won by each team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Wins {
    pub heroes: i64,
    pub villains: i64,
}

/// A fighter and the fights it won. A name in both teams is two winners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Winner {
    pub name: String,
    pub team: &'static str,
    pub wins: i64,
}

impl Winner {
    /// The order of the top list: most wins first, ties by name, then team.
    fn rank(&self, other: &Self) -> Ordering {
        other
            .wins
            .cmp(&self.wins)
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.team.cmp(other.team))
    }
}

/// Puts `winner` into `top`, kept in rank order and at most [`TOP_WINNERS`] long, so that
/// a top list folds any number of winners in the memory of ten.
pub fn push_top(top: &mut Vec<Winner>, winner: Winner) {
    let at = top.partition_point(|kept| kept.rank(&winner) == Ordering::Less);
    if at < TOP_WINNERS {
        top.insert(at, winner);
        top.truncate(TOP_WINNERS);
    }
}

impl Stats {
    /// The statistics of fights won as `wins` counts, from each team's own top list. Under
    /// one total order (wins down, name up, team up) every one of the overall top winners
    /// is among its team's top ones, so merging the two lists gives the overall top
    /// without one query grouping by name and team together.
    pub fn new(wins: Wins, heroes: Vec<Winner>, villains: Vec<Winner>) -> Self {
        let mut top_winners = Vec::new();
        for winner in heroes.into_iter().chain(villains) {
            push_top(&mut top_winners, winner);
        }
        Self {
            fights: wins.heroes.saturating_add(wins.villains),
            wins,
            top_winners,
        }
    }
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso_millis(millis: i64) -> String {
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// The hero served when the heroes service cannot supply one.
pub fn fallback_hero() -> Fighter {
    Fighter {
        name: "Fallback hero".to_owned(),
        level: 1,
        picture: Some("https://dummyimage.com/240x320/1e8fff/ffffff&text=Fallback+Hero".to_owned()),
        powers: Some("Fallback hero powers".to_owned()),
    }
}

/// The villain served when the villains service cannot supply one.
pub fn fallback_villain() -> Fighter {
    Fighter {
        name: "Fallback villain".to_owned(),
        level: 45,
        picture: Some(
            "https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Villain".to_owned(),
        ),
        powers: Some("Fallback villain powers".to_owned()),
    }
}

/// The location served when the locations service cannot supply one.
pub fn fallback_location() -> FightLocation {
    FightLocation {
        name: "Fallback location".to_owned(),
        description: Some(
            "This is a fallback location. Not generally someplace you'd like to visit.".to_owned(),
        ),
        picture: Some(
            "https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Location".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fighters_ignore_extra_fields_and_omit_blank_ones() {
        let mut body =
            br#"{"id":7,"name":"Yoda","otherName":"","level":9000000000,"picture":"","powers":null}"#
                .to_vec();
        let fighter: Result<Fighter, _> = simd_json::serde::from_slice(&mut body);
        let fighter = fighter.map_err(|e| e.to_string());
        assert_eq!(
            fighter.as_ref().map(|f| f.level),
            Ok(9_000_000_000),
            "levels beyond i32 are kept"
        );
        let json = fighter.map(|f| kit::json::to_bytes(&f, 64));
        assert_eq!(
            json.as_deref(),
            Ok(&br#"{"name":"Yoda","level":9000000000}"#[..])
        );
    }

    #[test]
    fn fallbacks_match_the_contract() {
        let json = kit::json::to_bytes(&fallback_hero(), 256);
        assert_eq!(
            &json[..],
            br#"{"name":"Fallback hero","level":1,"picture":"https://dummyimage.com/240x320/1e8fff/ffffff&text=Fallback+Hero","powers":"Fallback hero powers"}"#
        );
        assert_eq!(fallback_villain().level, 45);
        assert_eq!(fallback_location().name, "Fallback location");
    }

    fn winners(team: &'static str, list: &[(&str, i64)]) -> Vec<Winner> {
        list.iter()
            .map(|&(name, wins)| Winner {
                name: name.to_owned(),
                team,
                wins,
            })
            .collect()
    }

    #[test]
    fn top_winners_merge_both_teams_most_wins_first_ties_by_name() {
        let heroes = winners("heroes", &[("Yoda", 5), ("Luke", 3), ("Anakin", 3)]);
        let villains = winners("villains", &[("Vader", 4), ("Anakin", 3), ("Boba", 1)]);
        let wins = Wins {
            heroes: 11,
            villains: 8,
        };

        let stats = Stats::new(wins.clone(), heroes, villains);

        let order: Vec<_> = stats
            .top_winners
            .iter()
            .map(|w| (w.name.as_str(), w.team, w.wins))
            .collect();
        assert_eq!(
            order,
            [
                ("Yoda", "heroes", 5),
                ("Vader", "villains", 4),
                ("Anakin", "heroes", 3),
                ("Anakin", "villains", 3),
                ("Luke", "heroes", 3),
                ("Boba", "villains", 1),
            ]
        );
        assert_eq!((stats.fights, stats.wins), (19, wins));
    }

    #[test]
    fn top_winners_keep_ten_and_names_sort_by_bytes() {
        let names: Vec<String> = (0..10).map(|n| format!("H{n}")).collect();
        let list: Vec<_> = names.iter().map(|n| (n.as_str(), 2)).collect();
        let villains = winners("villains", &[("a", 2), ("B", 2), ("É", 9)]);

        let stats = Stats::new(Wins::default(), winners("heroes", &list), villains);

        let names: Vec<_> = stats.top_winners.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            ["É", "B", "H0", "H1", "H2", "H3", "H4", "H5", "H6", "H7"]
        );
    }

    #[test]
    fn a_top_list_folded_one_by_one_is_the_sorted_head() {
        let all: Vec<Winner> = (0..200_i64)
            .map(|n| Winner {
                name: format!("N{}", (n * 37) % 101),
                team: if n % 2 == 0 { "heroes" } else { "villains" },
                wins: (n * 53) % 17,
            })
            .collect();
        let mut top = Vec::new();
        for winner in all.iter().cloned() {
            push_top(&mut top, winner);
        }

        let mut sorted = all;
        sorted.sort_by(Winner::rank);
        sorted.truncate(TOP_WINNERS);
        assert_eq!(top, sorted);
    }

    #[test]
    fn stats_serialize_as_the_api_shape() {
        let stats = Stats::new(Wins::default(), Vec::new(), Vec::new());
        let json = kit::json::to_bytes(&stats, 64);
        assert_eq!(
            &json[..],
            br#"{"fights":0,"wins":{"heroes":0,"villains":0},"topWinners":[]}"#
        );
        let stats = Stats::new(Wins::default(), winners("heroes", &[("Yoda", 1)]), vec![]);
        let json = kit::json::to_bytes(&stats.top_winners, 64);
        assert_eq!(&json[..], br#"[{"name":"Yoda","team":"heroes","wins":1}]"#);
    }

    #[test]
    fn dates_are_iso_with_milliseconds() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_795_452_701_787), "2026-11-23T16:51:41.787Z");
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn documents_become_api_fights() {
        let id = ObjectId::new();
        let doc = FightDoc {
            id,
            fight_date: DateTime::from_millis(1_795_452_701_787),
            winner_name: "Yoda".to_owned(),
            winner_level: 9_000_000_000,
            winner_powers: None,
            winner_picture: Some(String::new()),
            winner_team: "heroes".to_owned(),
            loser_name: "Vader".to_owned(),
            loser_level: 1,
            loser_powers: Some("Force".to_owned()),
            loser_picture: None,
            loser_team: "villains".to_owned(),
            location: None,
        };
        let json = kit::json::to_bytes(&Fight::from(doc), 256);
        let expected = format!(
            r#"{{"id":"{}","fightDate":"2026-11-23T16:51:41.787Z","winnerName":"Yoda","winnerLevel":9000000000,"winnerTeam":"heroes","loserName":"Vader","loserLevel":1,"loserPowers":"Force","loserTeam":"villains"}}"#,
            id.to_hex()
        );
        assert_eq!(String::from_utf8_lossy(&json), expected);
    }
}
