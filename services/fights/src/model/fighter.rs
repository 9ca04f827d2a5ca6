//! Fighters and locations as the other services send them, the body of
//! `POST /api/fights` and its validation.

use kit::{Problem, Violation};
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
    #[serde(default, deserialize_with = "kit::json::optional_object")]
    pub hero: Option<FighterInput>,
    #[serde(default, deserialize_with = "kit::json::optional_object")]
    pub villain: Option<FighterInput>,
    #[serde(default, deserialize_with = "kit::json::optional_object")]
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
