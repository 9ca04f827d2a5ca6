//! A fight as the API answers it and as MongoDB stores it, and the conversion between
//! the two.

use mongodb::bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use super::FightLocation;
use crate::fight::Outcome;

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
            winner_picture: Some(picture_or_fallback(winner.picture, winner_team)),
            winner_team: winner_team.to_owned(),
            loser_name: loser.name,
            loser_level: loser.level,
            loser_powers: loser.powers,
            loser_picture: Some(picture_or_fallback(loser.picture, loser_team)),
            loser_team: loser_team.to_owned(),
            location,
        }
    }
}

/// A fighter's picture, or its team's fallback picture when it has none: a stored fight
/// always carries both pictures, as the original's `Fight` schema requires.
fn picture_or_fallback(picture: Option<String>, team: &str) -> String {
    match picture {
        Some(picture) if !picture.trim().is_empty() => picture,
        _ => crate::downstream::fallback::picture(team).to_owned(),
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

/// Fights stored without a picture are answered with their team's fallback picture.
impl From<FightDoc> for Fight {
    fn from(doc: FightDoc) -> Self {
        let winner_picture = picture_or_fallback(doc.winner_picture, &doc.winner_team);
        let loser_picture = picture_or_fallback(doc.loser_picture, &doc.loser_team);
        Fight {
            id: doc.id.to_hex(),
            fight_date: iso_millis(doc.fight_date.timestamp_millis()),
            winner_name: doc.winner_name,
            winner_level: doc.winner_level,
            winner_powers: doc.winner_powers,
            winner_picture: Some(winner_picture),
            winner_team: doc.winner_team,
            loser_name: doc.loser_name,
            loser_level: doc.loser_level,
            loser_powers: doc.loser_powers,
            loser_picture: Some(loser_picture),
            loser_team: doc.loser_team,
            location: doc.location,
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

#[cfg(test)]
mod tests {
    use super::*;

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
            r#"{{"id":"{}","fightDate":"2026-11-23T16:51:41.787Z","winnerName":"Yoda","winnerLevel":9000000000,"winnerPicture":"{}","winnerTeam":"heroes","loserName":"Vader","loserLevel":1,"loserPowers":"Force","loserPicture":"{}","loserTeam":"villains"}}"#,
            id.to_hex(),
            crate::downstream::fallback::HERO_PICTURE,
            crate::downstream::fallback::VILLAIN_PICTURE
        );
        assert_eq!(String::from_utf8_lossy(&json), expected);
    }
}
