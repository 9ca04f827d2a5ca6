//! The Location resource: what the API returns, what it accepts, and the validation
//! rules between the two.

use kit::Violation;
use serde::{Deserialize, Serialize};

/// The kinds of location the `type` column allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocationType {
    City,
    Planet,
    Place,
    Island,
    Country,
    Moon,
}

impl LocationType {
    const ALL: [Self; 6] = [
        Self::City,
        Self::Planet,
        Self::Place,
        Self::Island,
        Self::Country,
        Self::Moon,
    ];
    const EXPECTED: &'static str = "must be one of CITY, PLANET, PLACE, ISLAND, COUNTRY, MOON";

    /// The spelling used in JSON and in the database enum.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::City => "CITY",
            Self::Planet => "PLANET",
            Self::Place => "PLACE",
            Self::Island => "ISLAND",
            Self::Country => "COUNTRY",
            Self::Moon => "MOON",
        }
    }

    /// The type spelled `text`, exactly as the API and the database spell it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A summary of a set of ids that, in practice, changes whenever the set does. It is
/// computed from the ids in memory and, with the same formula, by the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub count: u64,
    pub max: i64,
    /// XOR of the ids' bit patterns.
    pub xor: u64,
    pub sum: i128,
}

impl Fingerprint {
    /// The fingerprint of `ids`, as the database computes it for the table.
    pub fn of(ids: &[i64]) -> Self {
        ids.iter().fold(Self::default(), |fp, &id| Self {
            count: fp.count + 1,
            max: fp.max.max(id),
            xor: fp.xor ^ id.cast_unsigned(),
            sum: fp.sum + i128::from(id),
        })
    }
}

/// A stored location as the API returns it; absent or empty optional fields are left out,
/// as the original service did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub id: i64,
    pub name: String,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "kit::json::is_blank")]
    pub picture: Option<String>,
    #[serde(rename = "type")]
    pub kind: LocationType,
}

impl Location {
    /// A guess of the encoded size, so a response buffer is allocated once.
    pub fn json_size(&self) -> usize {
        64 + self.name.len()
            + kit::json::text_len(&self.description)
            + kit::json::text_len(&self.picture)
    }
}

/// A request body of POST, PUT and PATCH. Every field is optional here so that PATCH can
/// tell absent fields from present ones; `validate` enforces what a full location needs.
/// An `id` is accepted, as clients echo whole locations back, and ignored: the path or
/// the database decides it. Unknown fields are ignored, as the original system ignores
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LocationInput {
    #[serde(rename = "id")]
    pub _id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub picture: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A location that passed validation, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLocation {
    pub name: String,
    pub description: Option<String>,
    pub picture: Option<String>,
    pub kind: LocationType,
}

impl NewLocation {
    /// The stored row this becomes once the database assigned `id`.
    pub fn with_id(self, id: i64) -> Location {
        Location {
            id,
            name: self.name,
            description: self.description,
            picture: self.picture,
            kind: self.kind,
        }
    }
}

impl LocationInput {
    /// The fields present here laid over `stored`: PATCH semantics.
    pub fn merged_over(self, stored: Location) -> Self {
        Self {
            _id: None,
            name: self.name.or(Some(stored.name)),
            description: self.description.or(stored.description),
            picture: self.picture.or(stored.picture),
            kind: self.kind.or_else(|| Some(stored.kind.as_str().to_owned())),
        }
    }

    /// Checks every input of a whole-table replacement, each named `{prefix}[i].`, and
    /// answers every broken rule at once.
    pub fn validate_all(
        inputs: impl IntoIterator<Item = Self>,
        prefix: &str,
    ) -> Result<Vec<NewLocation>, Vec<Violation>> {
        let mut locations = Vec::new();
        let mut violations = Vec::new();
        for (at, input) in inputs.into_iter().enumerate() {
            match input.validate(&format!("{prefix}[{at}].")) {
                Ok(location) => locations.push(location),
                Err(found) => violations.extend(found),
            }
        }
        match violations.is_empty() {
            true => Ok(locations),
            false => Err(violations),
        }
    }

    /// Checks every rule; `prefix` qualifies field names (`[2].name`) when the input is
    /// one element of an array. Every write path (POST, PUT, the merged result of PATCH,
    /// the whole-table PUT) comes through here, so no stored row is larger than
    /// [`kit::field_rules::ROW_MAX_BYTES`] as JSON.
    pub fn validate(self, prefix: &str) -> Result<NewLocation, Vec<Violation>> {
        let mut violations = Vec::new();
        let mut fail = |field: &str, message: &'static str| {
            violations.push(Violation::new(format!("{prefix}{field}"), message));
        };
        let has_nul = |value: &Option<String>| value.as_deref().is_some_and(|v| v.contains('\0'));
        for (field, value) in [
            ("description", &self.description),
            ("picture", &self.picture),
            ("type", &self.kind),
        ] {
            if has_nul(value) {
                fail(field, "must not contain NUL characters");
            }
        }
        if let Some(message) = kit::field_rules::name_violation(self.name.as_deref()) {
            fail("name", message);
        }
        if let Some(message) = kit::field_rules::picture_violation(self.picture.as_deref()) {
            fail("picture", message);
        }
        if let Some(message) = kit::field_rules::description_violation(self.description.as_deref())
        {
            fail("description", message);
        }
        let kind = match self.kind.as_deref() {
            None => {
                fail("type", "must not be null");
                None
            }
            Some(text) => {
                let kind = LocationType::parse(text);
                if kind.is_none() {
                    fail("type", LocationType::EXPECTED);
                }
                kind
            }
        };
        let location = match (self.name, kind) {
            (Some(name), Some(kind)) if violations.is_empty() => NewLocation {
                name,
                description: self.description,
                picture: self.picture,
                kind,
            },
            _ => return Err(violations),
        };
        // Measured with the longest id, so that the bound holds whatever id the row gets.
        let encoded = kit::json::to_bytes(&location.clone().with_id(i64::MIN), 256).len();
        match kit::field_rules::row_violation(encoded) {
            Some(message) => Err(vec![Violation::new(format!("{prefix}row"), message)]),
            None => Ok(location),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, kind: &str) -> LocationInput {
        LocationInput {
            name: Some(name.to_owned()),
            kind: Some(kind.to_owned()),
            ..LocationInput::default()
        }
    }

    fn fields(result: Result<NewLocation, Vec<Violation>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.field.into_owned())
            .collect()
    }

    #[test]
    fn a_complete_location_is_valid() {
        let valid = input("Gotham City", "CITY").validate("");
        assert_eq!(
            valid.map(|l| (l.name, l.kind)),
            Ok(("Gotham City".to_owned(), LocationType::City))
        );
    }

    #[test]
    fn name_length_counts_characters() {
        assert!(input("Élan", "MOON").validate("").is_ok());
        assert!(input(&"é".repeat(50), "MOON").validate("").is_ok());
        assert_eq!(
            fields(input(&"é".repeat(51), "MOON").validate("")),
            ["name"]
        );
        assert_eq!(fields(input("ab", "MOON").validate("")), ["name"]);
    }

    #[test]
    fn type_must_be_one_of_six() {
        for kind in ["CITY", "PLANET", "PLACE", "ISLAND", "COUNTRY", "MOON"] {
            assert!(input("Somewhere", kind).validate("").is_ok(), "{kind}");
        }
        for kind in ["city", "STAR", ""] {
            assert_eq!(
                fields(input("Somewhere", kind).validate("")),
                ["type"],
                "{kind}"
            );
        }
    }

    #[test]
    fn missing_fields_nul_bytes_and_long_pictures_are_violations() {
        assert_eq!(
            fields(LocationInput::default().validate("")),
            ["name", "type"]
        );
        let nul = LocationInput {
            description: Some("a\0b".into()),
            ..input("Somewhere", "CITY")
        };
        assert_eq!(fields(nul.validate("")), ["description"]);
        let long = LocationInput {
            picture: Some("p".repeat(256)),
            ..input("Somewhere", "CITY")
        };
        assert_eq!(fields(long.validate("[3].")), ["[3].picture"]);
    }

    #[test]
    fn a_row_is_bounded_as_json() {
        let row = |description: usize| LocationInput {
            description: Some("d".repeat(description)),
            ..input("Somewhere", "CITY")
        };
        assert!(row(16_000).validate("").is_ok());
        assert_eq!(
            fields(row(kit::field_rules::ROW_MAX_BYTES).validate("[1].")),
            ["[1].row"]
        );
    }

    #[test]
    fn patch_keeps_absent_fields() {
        let stored = Location {
            id: 7,
            name: "Old Name".into(),
            description: Some("old".into()),
            picture: None,
            kind: LocationType::Island,
        };
        let patch = LocationInput {
            picture: Some("p.png".into()),
            ..LocationInput::default()
        };
        let merged = patch.merged_over(stored).validate("").map(|l| l.with_id(7));
        assert_eq!(
            merged.map(|l| (l.name, l.description, l.picture, l.kind)),
            Ok((
                "Old Name".into(),
                Some("old".into()),
                Some("p.png".into()),
                LocationType::Island
            ))
        );
    }

    #[test]
    fn json_leaves_out_empty_optionals_and_unknown_fields_are_ignored() {
        let location = Location {
            id: 1,
            name: "Luma".into(),
            description: Some(String::new()),
            picture: None,
            kind: LocationType::Moon,
        };
        assert_eq!(
            &kit::json::to_bytes(&location, 64)[..],
            br#"{"id":1,"name":"Luma","type":"MOON"}"#
        );
        let mut body = br#"{"name":"Luma","type":"MOON","colour":"red"}"#.to_vec();
        assert_eq!(
            kit::json::from_body::<LocationInput>(&mut body).ok(),
            Some(input("Luma", "MOON"))
        );
        let mut body = br#"{"id":3,"name":"Luma","type":"MOON"}"#.to_vec();
        assert!(kit::json::from_body::<LocationInput>(&mut body).is_ok());
    }
}
