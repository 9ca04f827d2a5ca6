//! JSON in and out with simd-json: parsing request bodies in place, encoding into one
//! pre-sized buffer. Integers beyond 64 bits parse as floats (`big-int-as-float`): JSON
//! allows them, and in a field the model ignores they must not make the body invalid.

use std::{fmt, marker::PhantomData};

use crate::body::Incoming;
use bytes::Bytes;
use serde::{
    de::{value::MapAccessDeserializer, DeserializeOwned, MapAccess, Visitor},
    Deserialize, Deserializer, Serialize,
};

use crate::{json_messages, Problem};

/// Reads a request body of at most `limit` bytes and decodes it: 413 when larger, 400
/// when it is not JSON of the expected shape.
pub async fn read_body<T: DeserializeOwned>(body: Incoming, limit: usize) -> Result<T, Problem> {
    let mut bytes = crate::body::read(body, limit).await?;
    from_body(&mut bytes)
}

/// Whether an optional text is absent or empty: such fields are left out of every
/// answer (`#[serde(skip_serializing_if = "kit::json::is_blank")]`), as Quarkus does.
pub fn is_blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}

/// The length of an optional text, 0 when absent: what it adds to a guess of the encoded
/// size (the answers' `json_size`).
pub fn text_len(value: &Option<String>) -> usize {
    value.as_ref().map_or(0, String::len)
}

/// Encodes `value`; `capacity` is a guess of the encoded size.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T, capacity: usize) -> Bytes {
    let mut buf = Vec::with_capacity(capacity);
    // Writing into a Vec cannot fail and our types only have string keys, so the only
    // possible error is a custom Serialize impl failing, which none of ours does.
    if let Err(err) = simd_json::to_writer(&mut buf, value) {
        log::error!("JSON encoding failed: {err}");
        buf.clear();
    }
    Bytes::from(buf)
}

/// Decodes a request body; any syntax or type error becomes a 400 problem in plain
/// words (see `json_messages`).
pub fn from_body<T: DeserializeOwned>(body: &mut [u8]) -> Result<T, Problem> {
    // Escapes are rare in request bodies; only then is there a surrogate to check and
    // a string that parsing unescapes in place, so a copy to explain an error from.
    let pristine = if body.contains(&b'\\') {
        if json_messages::has_lone_surrogate(body) {
            return Err(Problem::bad_request(
                "body: a string holds half a UTF-16 surrogate pair (such as \\ud800 alone)",
            ));
        }
        Some(body.to_vec())
    } else {
        None
    };
    match simd_json::serde::from_slice(body) {
        Ok(value) => Ok(value),
        Err(err) => Err(json_messages::explain::<T>(
            pristine.as_deref().unwrap_or(body),
            &err,
        )),
    }
}

/// `T` decoded from a JSON object only. serde's derived structs also accept an array of
/// their fields in order, which no client of a JSON API means: a struct whose fields are
/// all optional would then take almost any array as a valid value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(OnlyMaps(PhantomData))
            .map(Object)
    }
}

/// For `#[serde(default, deserialize_with = "kit::json::optional_object")]`: an optional
/// field whose value, when present and not null, must be a JSON object (see [`Object`]).
pub fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Object<T>>::deserialize(deserializer).map(|found| found.map(|Object(value)| value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Input {
        name: String,
        level: i32,
    }

    #[test]
    fn decodes_valid_json() {
        let mut body = br#"{"name":"Yoda","level":7}"#.to_vec();
        assert_eq!(
            from_body::<Input>(&mut body),
            Ok(Input {
                name: "Yoda".into(),
                level: 7
            })
        );
    }

    #[test]
    fn rejects_wrong_types_unknown_fields_and_garbage() {
        for body in [
            &br#"{"name":"Yoda","level":"7"}"#[..],
            br#"{"name":"Yoda","level":7,"x":1}"#,
            br#"{"name":"Yoda""#,
            b"",
            b"\xff\xfe",
        ] {
            let err = from_body::<Input>(&mut body.to_vec()).err();
            assert_eq!(err.map(|p| p.status.as_u16()), Some(400), "{body:?}");
        }
    }

    #[test]
    fn integers_beyond_64_bits_in_ignored_fields_are_accepted() {
        #[derive(Debug, Deserialize)]
        struct Level {
            level: i64,
        }
        let mut body = br#"{"level":3,"extra":77433114068117805435191296}"#.to_vec();
        assert_eq!(from_body::<Level>(&mut body).map(|l| l.level), Ok(3));
        let mut body = br#"{"level":77433114068117805435191296}"#.to_vec();
        assert!(from_body::<Level>(&mut body).is_err());
    }

    fn detail<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        match from_body::<T>(&mut body.as_bytes().to_vec()) {
            Ok(value) => panic!("{body} decoded to {value:?}"),
            Err(problem) => problem.detail.into_owned(),
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Fight {
        hero: Input,
        location: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "UPPERCASE")]
    enum Kind {
        City,
        Moon,
    }

    #[test]
    fn errors_name_the_field_and_what_was_expected() {
        for (body, expected) in [
            (
                r#"{"hero":{"name":"a","level":"x"}}"#,
                "hero.level: expected an integer, got a string",
            ),
            (
                r#"{"hero":{"name":5,"level":1}}"#,
                "hero.name: expected a string, got an integer",
            ),
            (r#"{"hero":{"level":1}}"#, "hero.name: is required"),
            (
                r#"{"hero":{"name":"a","level":1,"zz":1}}"#,
                "hero.zz: is not a known field",
            ),
            (
                r#"{"hero":"Yoda"}"#,
                "hero: expected a JSON object, got a string",
            ),
            (r#"[]"#, "body: expected a JSON object, got an array"),
            (
                r#"{"hero":{"name":"a\"b","level":true}}"#,
                "hero.level: expected an integer, got true or false",
            ),
            (
                r#"{"hero":{"name":"a","level":1},"location":"SEA"}"#,
                "location: 'SEA' is not one of CITY or MOON",
            ),
            (
                r#"{"hero":{"name":"a","level":18446744073709551615}}"#,
                "hero.level: expected an integer from -9223372036854775808 to 9223372036854775807, got one beyond that range",
            ),
            (
                r#"{"hero":{"name":"a","level":-9223372036854775809}}"#,
                "hero.level: expected an integer from -9223372036854775808 to 9223372036854775807, got one beyond that range",
            ),
            (
                r#"{"hero":{"name":"a","level":-1.5}}"#,
                "hero.level: expected an integer, got a number",
            ),
            (r#"<html>"#, "body: not valid JSON"),
            (r#"{"hero":"#, "body: not valid JSON"),
            ("", "body: not valid JSON"),
        ] {
            assert_eq!(detail::<Fight>(body), expected, "{body}");
        }
    }

    #[test]
    fn client_input_is_quoted_briefly() {
        let body = format!(
            r#"{{"hero":{{"name":"a","level":1}},"location":"{}"}}"#,
            "X".repeat(1000)
        );
        let detail = detail::<Fight>(&body);
        assert!(detail.len() < 120, "{detail}");
        assert!(!detail.contains("Tape") && !detail.contains("character"));
    }

    #[test]
    fn lone_surrogates_are_refused_and_pairs_decode() {
        for body in [
            r#"{"name":"\ud800","level":1}"#,
            r#"{"name":"x\udc00","level":1}"#,
            r#"{"name":"\ud800\u0041","level":1}"#,
        ] {
            assert!(detail::<Input>(body).contains("surrogate"), "{body}");
        }
        let mut body = br#"{"name":"\ud83d\ude00 \\ud800","level":1}"#.to_vec();
        assert_eq!(
            from_body::<Input>(&mut body).map(|i| i.name),
            Ok("\u{1F600} \\ud800".to_owned())
        );
    }

    #[test]
    fn encodes_and_escapes() {
        assert_eq!(&to_bytes(&["a\"b\n"], 8)[..], br#"["a\"b\n"]"#);
    }

    #[test]
    fn an_object_is_only_taken_from_an_object() {
        #[derive(Debug, Default, Deserialize, PartialEq)]
        struct Optional {
            name: Option<String>,
            level: Option<i32>,
        }
        let mut object = br#"{"name":"Yoda","level":1}"#.to_vec();
        let decoded: Result<Object<Optional>, _> = from_body(&mut object);
        assert_eq!(
            decoded.ok().map(|o| o.0),
            Some(Optional {
                name: Some("Yoda".to_owned()),
                level: Some(1)
            })
        );
        let mut array = br#"["Yoda",1]"#.to_vec();
        let refused: Result<Object<Optional>, _> = from_body(&mut array);
        assert_eq!(refused.err().map(|p| p.status.as_u16()), Some(400));
    }
}
