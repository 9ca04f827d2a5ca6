//! Plain words for a request body that does not decode: the field at fault and what
//! was expected (`hero.level: expected an integer, got a string`), never the parser's
//! internals, and client input quoted only briefly.
//!
//! simd-json's own errors name neither the field nor, for type errors, the position
//! (`ExpectedSigned at character 0`). Only once a body has failed is it decoded again,
//! through `serde_path_to_error`, to learn the path, and parsed as a document to tell
//! what the client sent there; the hot path pays nothing for this.

use serde::de::DeserializeOwned;
use simd_json::ErrorType;

use crate::{request_rules::quote, Problem};

/// The problem for a body that failed to decode as `T` with `error`; `pristine` is the
/// body as received (simd-json unescapes strings in place while it parses).
pub(crate) fn explain<T: DeserializeOwned>(pristine: &[u8], error: &simd_json::Error) -> Problem {
    Problem::bad_request(describe::<T>(pristine, error))
}

fn describe<T: DeserializeOwned>(pristine: &[u8], error: &simd_json::Error) -> String {
    if !is_mismatch(error.error()) {
        return "body: not valid JSON".to_owned();
    }
    let document = simd_json::to_owned_value(&mut pristine.to_vec()).ok();
    let mut input = pristine.to_vec();
    let Ok(mut deserializer) = simd_json::Deserializer::from_slice(&mut input) else {
        return "body: not valid JSON".to_owned();
    };
    let Err(error) = serde_path_to_error::deserialize::<_, T>(&mut deserializer) else {
        return "body: does not have the expected shape".to_owned();
    };
    let segments: Vec<&serde_path_to_error::Segment> = error.path().iter().collect();
    let value = document
        .as_ref()
        .and_then(|document| value_at(document, &segments));
    let found = value.map(kind);
    let field = match error.path().to_string() {
        root if root == "." => "body".to_owned(),
        path => path,
    };
    match error.inner().error() {
        ErrorType::Serde(message) => serde_message(&field, message, found),
        other if expected(other) == "an integer" && value.is_some_and(is_out_of_range) => {
            format!("{field}: expected an integer {INTEGER_RANGE}, got one beyond that range")
        }
        other => {
            let expected = expected(other);
            match found {
                Some(found) => format!("{field}: expected {expected}, got {found}"),
                None => format!("{field}: expected {expected}"),
            }
        }
    }
}

/// The integers every request body field accepts: they decode as `i64`.
const INTEGER_RANGE: &str = "from -9223372036854775808 to 9223372036854775807";

/// Whether `value` is a whole number no `i64` holds: beyond 64 bits it parses as a float
/// (`big-int-as-float`), and an unsigned one above `i64::MAX` as `u64`.
fn is_out_of_range(value: &simd_json::OwnedValue) -> bool {
    use simd_json::prelude::{TypedValue, ValueAsScalar, ValueType};
    match value.value_type() {
        ValueType::U64 | ValueType::I128 | ValueType::U128 => true,
        ValueType::F64 => value
            .as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.abs() >= 2_f64.powi(63)),
        _ => false,
    }
}

/// Whether the body is JSON that does not fit the type, rather than no JSON at all.
fn is_mismatch(error: &ErrorType) -> bool {
    matches!(
        error,
        ErrorType::Serde(_)
            | ErrorType::ExpectedArray
            | ErrorType::ExpectedBoolean
            | ErrorType::ExpectedEnum
            | ErrorType::ExpectedFloat
            | ErrorType::ExpectedInteger
            | ErrorType::ExpectedMap
            | ErrorType::ExpectedNull
            | ErrorType::ExpectedNumber
            | ErrorType::ExpectedSigned
            | ErrorType::ExpectedString
            | ErrorType::ExpectedUnsigned
            | ErrorType::Unexpected(..)
    )
}

fn expected(error: &ErrorType) -> &'static str {
    match error {
        ErrorType::ExpectedSigned | ErrorType::ExpectedUnsigned | ErrorType::ExpectedInteger => {
            "an integer"
        }
        ErrorType::ExpectedFloat | ErrorType::ExpectedNumber => "a number",
        ErrorType::ExpectedString => "a string",
        ErrorType::ExpectedBoolean => "true or false",
        ErrorType::ExpectedMap => "a JSON object",
        ErrorType::ExpectedArray => "an array",
        ErrorType::ExpectedNull => "null",
        _ => "another kind of value",
    }
}

/// serde's own messages (`missing field`, `unknown field`, `invalid type`, ...) in the
/// same words as simd-json's.
fn serde_message(field: &str, message: &str, found: Option<&str>) -> String {
    let ticked = |text: &str| text.split('`').nth(1).map(str::to_owned);
    let child = |name: &str| match field {
        "body" => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = ticked(rest).unwrap_or_default();
        return format!("{}: is required", child(&name));
    }
    if message.starts_with("unknown field ") {
        return format!("{field}: is not a known field");
    }
    if message.starts_with("invalid length") && message.contains("expected struct") {
        return format!(
            "{field}: expected a JSON object, got {}",
            found.unwrap_or("an array")
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let expected = rest.rsplit_once("expected ").map_or("", |(_, e)| e);
        let got = found.unwrap_or("another kind of value");
        return format!("{field}: expected {}, got {got}", plain_type(expected));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let value = ticked(rest).unwrap_or_default();
        let allowed = rest
            .split_once("expected ")
            .map_or("", |(_, e)| e)
            .replace('`', "");
        return format!("{field}: {} is not one of {allowed}", quote(&value));
    }
    // A message of the service's own Deserialize impl: its words, at most briefly.
    format!("{field}: {}", quote(message).trim_matches('\''))
}

/// A Rust type name in serde's `expected` clause, in JSON words.
fn plain_type(rust: &str) -> &str {
    match rust {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        "a string" | "a borrowed string" | "a char" => "a string",
        "a boolean" => "true or false",
        other if other.starts_with("struct ") || other.starts_with("a map") => "a JSON object",
        other if other.starts_with("a sequence") => "an array",
        other => other,
    }
}

/// The value the client sent at `path`, if the body is a JSON document.
fn value_at<'a>(
    document: &'a simd_json::OwnedValue,
    path: &[&serde_path_to_error::Segment],
) -> Option<&'a simd_json::OwnedValue> {
    use serde_path_to_error::Segment;
    use simd_json::prelude::{ValueAsArray, ValueAsObject};
    path.iter()
        .try_fold(document, |value, segment| match segment {
            Segment::Map { key } => value.as_object()?.get(key.as_str()),
            Segment::Seq { index } => value.as_array()?.get(*index),
            _ => None,
        })
}

fn kind(value: &simd_json::OwnedValue) -> &'static str {
    use simd_json::prelude::{TypedValue, ValueType};
    match value.value_type() {
        ValueType::String => "a string",
        ValueType::I64 | ValueType::U64 | ValueType::I128 | ValueType::U128 => "an integer",
        ValueType::F64 => "a number",
        ValueType::Bool => "true or false",
        ValueType::Null => "null",
        ValueType::Array => "an array",
        ValueType::Object => "a JSON object",
        _ => "another kind of value",
    }
}

/// Whether a JSON body holds an escape of half a UTF-16 surrogate pair (`"\ud800"`
/// alone), which simd-json would decode to a NUL character instead of refusing.
pub(crate) fn has_lone_surrogate(body: &[u8]) -> bool {
    let escape = |at: usize| -> Option<u16> {
        let hex = body.get(at..at + 6)?;
        if !hex.starts_with(b"\\u") {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut at = 0;
    while let Some(offset) = body
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\\'))
    {
        at += offset;
        match escape(at) {
            Some(0xD800..=0xDBFF) => {
                if !matches!(escape(at + 6), Some(0xDC00..=0xDFFF)) {
                    return true;
                }
                at += 12;
            }
            Some(0xDC00..=0xDFFF) => return true,
            // Any other escape, `\\` included: skip the backslash and the escaped byte.
            _ => at += 2,
        }
    }
    false
}
