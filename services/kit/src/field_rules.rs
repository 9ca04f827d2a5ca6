//! Input rules every service applies alike: what an id in a path looks like, and what a
//! name, level, picture or description (of a hero, villain, location or fighter) must
//! be, so that fights stores nothing the catalogues would refuse.

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

/// What an id segment of a path names, once it reads as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathId {
    /// An integer within `i64`: the store looks it up, and a negative one simply
    /// finds nothing.
    InRange(i64),
    /// An integer beyond `i64`: well formed, so not the client's mistake, but no row can
    /// have it. Reads answer 404 and a delete 204, as for any absent row.
    OutOfRange,
}

/// A path segment that is not an integer at all: the client's mistake, a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnInteger;

/// An id in a path, read as the original reads its `Long` path parameter: percent-decoded,
/// then an optional `+` or `-` and ASCII decimal digits (Java's `Long.parseLong`, so
/// `+42` names 42). Anything else, `1.5`, ` 1` or `1e3`, is [`NotAnInteger`].
pub fn path_id(raw: &str) -> Result<PathId, NotAnInteger> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let digits = decoded.strip_prefix(['+', '-']).unwrap_or(&decoded);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotAnInteger);
    }
    Ok(decoded.parse().map_or(PathId::OutOfRange, PathId::InRange))
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
    fn path_ids_read_as_javas_long_and_tell_no_integer_from_no_row() {
        for (raw, id) in [
            ("0", 0),
            ("0042", 42),
            ("+42", 42),
            ("-5", -5),
            ("-0", 0),
            ("%2B42", 42),
            ("%34%32", 42),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(path_id(raw), Ok(PathId::InRange(id)), "{raw:?}");
        }
        for raw in [
            "9223372036854775808",
            "99999999999999999999",
            "-9223372036854775809",
        ] {
            assert_eq!(path_id(raw), Ok(PathId::OutOfRange), "{raw:?}");
        }
        for raw in [
            "", "+", "-", "+-1", "--1", "abc", "1.5", " 1", "%201", "1 ", "1e3", "0x1", "١", "%ff",
        ] {
            assert_eq!(path_id(raw), Err(NotAnInteger), "{raw:?}");
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
