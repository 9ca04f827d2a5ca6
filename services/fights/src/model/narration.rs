//! The bodies and answers of the narration endpoints, and their validation.

use kit::{Problem, Violation};
use serde::{Deserialize, Serialize};

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
    #[serde(default, deserialize_with = "kit::json::optional_object")]
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
