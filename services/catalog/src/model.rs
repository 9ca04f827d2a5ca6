//! A hero or villain as stored and served, the request body that creates or changes
//! one, and the validation rules of its OpenAPI document.

use kit::{Problem, Violation};
use serde::{Deserialize, Serialize};

/// A row of `hero` or `villain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Character {
    pub id: i64,
    pub name: String,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub other_name: Option<String>,
    pub level: i32,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub powers: Option<String>,
}

impl Character {
    /// A guess of the encoded size from the field lengths, so a response buffer is
    /// allocated once whatever the row holds.
    pub fn json_size(&self) -> usize {
        96 + self.name.len()
            + [&self.other_name, &self.picture, &self.powers]
                .into_iter()
                .map(kit::json::text_len)
                .sum::<usize>()
    }
}

/// A request body. Every field is optional here so that PATCH can merge; `id` is
/// accepted (clients send back what they read) and ignored: the path or the database
/// decides it. Unknown fields are ignored, as the original system ignores them, so a
/// client of either system can send the same bodies.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub other_name: Option<String>,
    pub level: Option<i64>,
    pub picture: Option<String>,
    pub powers: Option<String>,
}

/// A validated character without its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub name: String,
    pub other_name: Option<String>,
    pub level: i32,
    pub picture: Option<String>,
    pub powers: Option<String>,
}

impl Fields {
    pub fn with_id(self, id: i64) -> Character {
        let Fields {
            name,
            other_name,
            level,
            picture,
            powers,
        } = self;
        Character {
            id,
            name,
            other_name,
            level,
            picture,
            powers,
        }
    }
}

impl Input {
    /// The fields of a full create or replace, or a 400 naming every broken rule;
    /// `prefix` names the element in a collection (`[3].`). Every write path (POST, PUT,
    /// the merged result of PATCH, the whole-table PUT) comes through here, so no stored
    /// row is larger than [`kit::field_rules::ROW_MAX_BYTES`] as JSON.
    pub fn validate(self, prefix: &str, violations: &mut Vec<Violation>) -> Option<Fields> {
        let before = violations.len();
        let mut check = |field: &str, message: &'static str| {
            violations.push(Violation::new(format!("{prefix}{field}"), message));
        };
        if let Some(message) = kit::field_rules::name_violation(self.name.as_deref()) {
            check("name", message);
        }
        let level = match (self.level, kit::field_rules::level_violation(self.level)) {
            (Some(level), None) => i32::try_from(level).unwrap_or_else(|_| {
                check("level", "must be less than or equal to 2147483647");
                0
            }),
            (_, message) => {
                check("level", message.unwrap_or("must not be null"));
                0
            }
        };
        for (field, value) in [("otherName", &self.other_name), ("picture", &self.picture)] {
            if let Some(message) = kit::field_rules::picture_violation(value.as_deref()) {
                check(field, message);
            }
        }
        for (field, value) in [
            ("otherName", &self.other_name),
            ("picture", &self.picture),
            ("powers", &self.powers),
        ] {
            if value.as_ref().is_some_and(|v| v.contains('\0')) {
                check(field, "must not contain NUL characters");
            }
        }
        if violations.len() > before {
            return None;
        }
        let fields = Fields {
            name: self.name.unwrap_or_default(),
            other_name: self.other_name,
            level,
            picture: self.picture,
            powers: self.powers,
        };
        // Measured with the longest id, so that the bound holds whatever id the row gets.
        let encoded = kit::json::to_bytes(&fields.clone().with_id(i64::MIN), 256).len();
        if let Some(message) = kit::field_rules::row_violation(encoded) {
            violations.push(Violation::new(format!("{prefix}row"), message));
            return None;
        }
        Some(fields)
    }

    /// `current` with every field this input sets replaced, for PATCH.
    pub fn merge_into(self, current: Character) -> Input {
        Input {
            id: None,
            name: self.name.or(Some(current.name)),
            other_name: self.other_name.or(current.other_name),
            level: self.level.or(Some(i64::from(current.level))),
            picture: self.picture.or(current.picture),
            powers: self.powers.or(current.powers),
        }
    }
}

/// Validates one body for create or replace.
pub fn validate_one(input: Input) -> Result<Fields, Problem> {
    let mut violations = Vec::new();
    input
        .validate("", &mut violations)
        .ok_or_else(|| Problem::invalid(violations))
}

/// Validates every element of a collection replace; violations name the element.
pub fn validate_all(inputs: Vec<Input>) -> Result<Vec<Fields>, Problem> {
    let mut violations = Vec::new();
    let fields: Vec<Fields> = inputs
        .into_iter()
        .enumerate()
        .filter_map(|(i, input)| input.validate(&format!("[{i}]."), &mut violations))
        .collect();
    if violations.is_empty() {
        Ok(fields)
    } else {
        Err(Problem::invalid(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, level: i64) -> Input {
        Input {
            name: Some(name.into()),
            level: Some(level),
            ..Input::default()
        }
    }

    fn fields_of(problem: Problem) -> Vec<String> {
        problem
            .violations
            .into_iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect()
    }

    #[test]
    fn accepts_the_boundaries() {
        assert!(validate_one(input("Bob", 1)).is_ok());
        assert!(validate_one(input(&"é".repeat(50), i64::from(i32::MAX))).is_ok());
    }

    #[test]
    fn names_every_broken_rule() {
        let bad = Input {
            other_name: Some("x".repeat(256)),
            ..input("Al", 0)
        };
        let problem = validate_one(bad).err().map(fields_of);
        assert_eq!(
            problem,
            Some(vec![
                "name: size must be between 3 and 50".to_owned(),
                "level: must be greater than or equal to 1".to_owned(),
                "otherName: size must be between 0 and 255".to_owned(),
            ])
        );
    }

    #[test]
    fn required_fields_and_ranges() {
        let problem = validate_one(Input::default()).err().map(fields_of);
        assert_eq!(
            problem,
            Some(vec![
                "name: must not be null".to_owned(),
                "level: must not be null".to_owned()
            ])
        );
        assert!(validate_one(input(&"x".repeat(51), 1)).is_err());
        assert!(validate_one(input("Bob", i64::from(i32::MAX) + 1)).is_err());
        assert!(validate_one(input("B\0b", 1)).is_err());
    }

    #[test]
    fn a_row_is_bounded_as_json() {
        let row = |powers: usize| Input {
            powers: Some("p".repeat(powers)),
            ..input("Bob", 1)
        };
        assert!(validate_one(row(16_000)).is_ok());
        let problem = validate_one(row(kit::field_rules::ROW_MAX_BYTES))
            .err()
            .map(fields_of);
        assert_eq!(
            problem,
            Some(vec![format!("row: {}", kit::field_rules::ROW_TOO_LARGE)])
        );
    }

    #[test]
    fn collection_violations_name_the_element() {
        let problem = validate_all(vec![input("Bob", 1), input("Bo", 1)])
            .err()
            .map(fields_of);
        assert_eq!(
            problem,
            Some(vec!["[1].name: size must be between 3 and 50".to_owned()])
        );
    }

    #[test]
    fn merge_keeps_absent_fields() {
        let current = Character {
            id: 7,
            name: "Luke".into(),
            other_name: Some("Farm boy".into()),
            level: 10,
            picture: None,
            powers: Some("The force".into()),
        };
        let patch = Input {
            level: Some(12),
            ..Input::default()
        };
        let merged = validate_one(patch.merge_into(current)).map(|f| f.with_id(7));
        assert_eq!(
            merged.map(|c| (c.name, c.other_name, c.level, c.powers)),
            Ok((
                "Luke".into(),
                Some("Farm boy".into()),
                12,
                Some("The force".into())
            ))
        );
    }

    #[test]
    fn blank_optionals_are_left_out() {
        let c = Character {
            id: 1,
            name: "Luke".into(),
            other_name: Some(String::new()),
            level: 3,
            picture: None,
            powers: Some("Force".into()),
        };
        assert_eq!(
            &kit::json::to_bytes(&c, 64)[..],
            br#"{"id":1,"name":"Luke","level":3,"powers":"Force"}"#
        );
    }
}
