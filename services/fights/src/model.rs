//! The JSON shapes of the fights API: fighters and locations as the other services send
//! them, the POST body, and a stored fight.

use serde::{Deserialize, Serialize};

/// A hero or villain as heroes and villains serve it; fields the fight does not use
/// (such as `id` or `otherName`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fighter {
    pub name: String,
    pub level: i64,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub powers: Option<String>,
}

/// Where a fight takes place, as the locations service serves it (extra fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FightLocation {
    pub name: String,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "is_blank")]
    pub picture: Option<String>,
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
    #[serde(skip_serializing_if = "is_blank")]
    pub winner_powers: Option<String>,
    #[serde(skip_serializing_if = "is_blank")]
    pub winner_picture: Option<String>,
    pub winner_team: String,
    pub loser_name: String,
    pub loser_level: i64,
    #[serde(skip_serializing_if = "is_blank")]
    pub loser_powers: Option<String>,
    #[serde(skip_serializing_if = "is_blank")]
    pub loser_picture: Option<String>,
    pub loser_team: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<FightLocation>,
}

/// Null and empty optional fields are left out of every answer, as Quarkus does.
pub(crate) fn is_blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
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
}
