//! Input rules every service applies alike: what an id in a path looks like, and what a
//! name, level, picture or description (of a hero, villain, location or fighter) must be,
//! so that fights stores nothing the catalogues would refuse.

/// Shortest and longest name, in characters, as the catalogues' columns and OpenAPI
/// documents say.
pub const NAME_MIN: usize = 3;
pub const NAME_MAX: usize = 50;

/// Longest picture (and hero or villain `otherName`), in characters: the catalogues'
/// `varchar(255)` columns.
pub const PICTURE_MAX: usize = 255;
/// Longest location description, in bytes: a MariaDB `text` column.
pub const DESCRIPTION_MAX_BYTES: usize = 65_535;

/// Largest row a catalogue stores, as its JSON answer: every hero, villain and location
/// fits, with room to spare, into what fights reads from a downstream (four times this),
/// so no row can turn every pick of it into a failed call. The original's largest row is
/// under 5 KB.
pub const ROW_MAX_BYTES: usize = 16 * 1024;
/// The violation message of a row over [`ROW_MAX_BYTES`].
pub const ROW_TOO_LARGE: &str = "the row as JSON must be at most 16384 bytes";

/// The violation message of a row whose JSON answer is `encoded` bytes long.
pub fn row_violation(encoded: usize) -> Option<&'static str> {
    (encoded > ROW_MAX_BYTES).then_some(ROW_TOO_LARGE)
}

/// The violation message of a level, or `None` for a valid one: present and at least 1,
/// as the original's `@Min(1)`.
pub fn level_violation(level: Option<i64>) -> Option<&'static str> {
    match level {
        None => Some("must not be null"),
        Some(level) if level < 1 => Some("must be greater than or equal to 1"),
        Some(_) => None,
    }
}

/// The violation message of an optional text of at most [`PICTURE_MAX`] characters.
pub fn picture_violation(picture: Option<&str>) -> Option<&'static str> {
    picture
        .is_some_and(|p| p.chars().count() > PICTURE_MAX)
        .then_some("size must be between 0 and 255")
}

/// The violation message of an optional location description.
pub fn description_violation(description: Option<&str>) -> Option<&'static str> {
    description
        .is_some_and(|d| d.len() > DESCRIPTION_MAX_BYTES)
        .then_some("size must be at most 65535 bytes")
}

/// An id written in a path as decimal digits only. `str::parse` alone would also take
/// `+1` and `-1`, so `/api/heroes/+1` would name hero 1: one resource, one spelling.
pub fn path_id(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// The violation message of a name, or `None` when it is a valid one: 3 to 50 characters
/// and no control characters, which no display of a name can show.
pub fn name_violation(name: Option<&str>) -> Option<&'static str> {
    match name {
        None => Some("must not be null"),
        Some(name) if !(NAME_MIN..=NAME_MAX).contains(&name.chars().count()) => {
            Some("size must be between 3 and 50")
        }
        Some(name) if name.chars().any(char::is_control) => {
            Some("must not contain control characters")
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_decimal_digits_only() {
        assert_eq!(path_id("0"), Some(0));
        assert_eq!(path_id("0042"), Some(42));
        assert_eq!(path_id("9223372036854775807"), Some(i64::MAX));
        for raw in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1e3",
            "0x1",
            "9223372036854775808",
            "١",
        ] {
            assert_eq!(path_id(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn levels_pictures_and_descriptions_have_the_catalogues_bounds() {
        assert_eq!(level_violation(Some(1)), None);
        assert_eq!(level_violation(Some(i64::MAX)), None);
        assert_eq!(level_violation(None), Some("must not be null"));
        for level in [0, -1, i64::MIN] {
            assert_eq!(
                level_violation(Some(level)),
                Some("must be greater than or equal to 1")
            );
        }
        assert_eq!(picture_violation(Some(&"é".repeat(255))), None);
        assert!(picture_violation(Some(&"p".repeat(256))).is_some());
        assert_eq!(description_violation(Some(&"d".repeat(65_535))), None);
        assert_eq!(row_violation(ROW_MAX_BYTES), None);
        assert_eq!(row_violation(ROW_MAX_BYTES + 1), Some(ROW_TOO_LARGE));
        assert!(description_violation(Some(&"d".repeat(65_536))).is_some());
    }

    #[test]
    fn names_are_3_to_50_characters_without_control_characters() {
        assert_eq!(name_violation(Some("Bob")), None);
        assert_eq!(name_violation(Some(&"é".repeat(50))), None);
        assert_eq!(name_violation(Some("Bob 🦇")), None);
        assert_eq!(name_violation(None), Some("must not be null"));
        assert_eq!(
            name_violation(Some("Bo")),
            Some("size must be between 3 and 50")
        );
        assert_eq!(
            name_violation(Some(&"x".repeat(51))),
            Some("size must be between 3 and 50")
        );
        for bad in ["Al\0ce", "Al\tce", "Al\nce", "Al\u{7f}ce", "Al\u{85}ce"] {
            assert_eq!(
                name_violation(Some(bad)),
                Some("must not contain control characters"),
                "{bad:?}"
            );
        }
    }
}
