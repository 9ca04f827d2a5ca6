//! The values of the fights service: fighters and locations as the other services send
//! them, the POST body and its validation, a fight as the API answers it and as MongoDB
//! stores it, and the conversion between the two.

use mongodb::bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use kit::{Problem, Violation};

use crate::fight::Outcome;

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

/// Both fighters, or a 400 listing every missing field and every value the catalogues
/// would refuse ([`kit::field_rules`], the same rules they apply), the location's too when there
/// is one. A fighter needs a picture: a stored fight always carries both pictures, as the
/// original's Fight schema requires.
pub fn validate(
    hero: Option<FighterInput>,
    villain: Option<FighterInput>,
    location: Option<&FightLocation>,
) -> Result<(Fighter, Fighter), Problem> {
    let mut violations = Vec::new();
    let hero = fighter("hero", hero, &mut violations);
    let villain = fighter("villain", villain, &mut violations);
    if let Some(location) = location {
        let checks = [
            (
                "location.name",
                kit::field_rules::name_violation(Some(&location.name)),
            ),
            (
                "location.description",
                kit::field_rules::description_violation(location.description.as_deref()),
            ),
            (
                "location.picture",
                kit::field_rules::picture_violation(location.picture.as_deref()),
            ),
        ];
        for (field, message) in checks {
            if let Some(message) = message {
                violations.push(Violation::new(field, message));
            }
        }
    }
    match (hero, villain) {
        (Some(hero), Some(villain)) if violations.is_empty() => Ok((hero, villain)),
        _ => Err(Problem::invalid(violations)),
    }
}

fn fighter(
    side: &'static str,
    input: Option<FighterInput>,
    violations: &mut Vec<Violation>,
) -> Option<Fighter> {
    let Some(input) = input else {
        violations.push(Violation::new(side, "must not be null"));
        return None;
    };
    let picture = input.picture.as_deref();
    let checks = [
        (
            "name",
            kit::field_rules::name_violation(input.name.as_deref()),
        ),
        ("level", kit::field_rules::level_violation(input.level)),
        (
            "picture",
            match picture {
                None | Some("") => Some("must not be empty"),
                Some(_) => kit::field_rules::picture_violation(picture),
            },
        ),
    ];
    let before = violations.len();
    for (field, message) in checks {
        if let Some(message) = message {
            violations.push(Violation::new(format!("{side}.{field}"), message));
        }
    }
    if violations.len() > before {
        return None;
    }
    Some(Fighter {
        name: input.name?,
        level: input.level?,
        picture: input.picture,
        powers: input.powers,
    })
}

/// The body of `POST /api/fights/narrate` before validation: every field optional so
/// that a missing one becomes a violation naming it. Other fields of a fight (`id`,
/// `fightDate`, pictures) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NarrationRequest {
    pub winner_name: Option<String>,
    pub winner_level: Option<i64>,
    pub winner_powers: Option<String>,
    pub winner_team: Option<String>,
    pub loser_name: Option<String>,
    pub loser_level: Option<i64>,
    pub loser_powers: Option<String>,
    pub loser_team: Option<String>,
    pub location: Option<NarrationLocation>,
}

/// Where a narrated fight took place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NarrationLocation {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A fight to narrate, as the original's `FightToNarrate` schema requires it: names,
/// powers and teams present and not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FightToNarrate {
    pub winner_name: String,
    pub winner_level: Option<i64>,
    pub winner_powers: String,
    pub winner_team: String,
    pub loser_name: String,
    pub loser_level: Option<i64>,
    pub loser_powers: String,
    pub loser_team: String,
    pub location: Option<NarrationLocation>,
}

impl NarrationRequest {
    /// The fight, or a 400 naming every missing or empty field.
    pub fn validate(self) -> Result<FightToNarrate, Problem> {
        let mut violations = Vec::new();
        let mut required = |field: &'static str, value: Option<String>| match value {
            Some(value) if !value.is_empty() => value,
            _ => {
                violations.push(Violation::new(field, "must not be empty"));
                String::new()
            }
        };
        let fight = FightToNarrate {
            winner_name: required("winnerName", self.winner_name),
            winner_powers: required("winnerPowers", self.winner_powers),
            winner_team: required("winnerTeam", self.winner_team),
            loser_name: required("loserName", self.loser_name),
            loser_powers: required("loserPowers", self.loser_powers),
            loser_team: required("loserTeam", self.loser_team),
            winner_level: self.winner_level,
            loser_level: self.loser_level,
            location: self.location,
        };
        match violations.is_empty() {
            true => Ok(fight),
            false => Err(Problem::invalid(violations)),
        }
    }
}

/// The body of `POST /api/fights/narrate/image`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRequest {
    pub narration: Option<String>,
    pub winner_picture_url: Option<String>,
    pub loser_picture_url: Option<String>,
}

/// The answer of `POST /api/fights/narrate/image`: where the picture is, and the
/// narration it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FightImage {
    pub image_url: String,
    pub image_narration: String,
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

    fn input(name: Option<&str>, level: Option<i64>) -> Option<FighterInput> {
        Some(FighterInput {
            name: name.map(str::to_owned),
            level,
            picture: Some("https://example.com/f.png".to_owned()),
            ..FighterInput::default()
        })
    }

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

    #[test]
    fn every_missing_field_and_bad_name_is_a_violation() {
        assert!(validate(
            input(Some("Yoda"), Some(1)),
            input(Some("Vader"), Some(2)),
            None
        )
        .is_ok());
        let fields = |r: Result<_, Problem>| -> Vec<String> {
            r.err()
                .map(|p| {
                    p.violations
                        .into_iter()
                        .map(|v| v.field.into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            fields(validate(None, input(Some("Vader"), Some(2)), None)),
            ["hero"]
        );
        assert_eq!(
            fields(validate(input(None, Some(1)), None, None)),
            ["hero.name", "villain"]
        );
        assert_eq!(
            fields(validate(
                input(Some(" "), None),
                input(Some("Vader"), None),
                None
            )),
            ["hero.name", "hero.level", "villain.level"]
        );
        let location = FightLocation {
            name: "Gotham\nCity".to_owned(),
            description: None,
            picture: None,
        };
        assert_eq!(
            fields(validate(
                input(Some("Yoda"), Some(1)),
                input(Some(&"V".repeat(51)), Some(2)),
                Some(&location)
            )),
            ["villain.name", "location.name"]
        );
    }
}
