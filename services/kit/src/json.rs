//! JSON in and out with simd-json: parsing request bodies in place, encoding into one
//! pre-sized buffer. Integers beyond 64 bits parse as floats (`big-int-as-float`): JSON
//! allows them, and in a field the model ignores they must not make the body invalid.

use crate::body::Incoming;
use bytes::Bytes;
use serde::{de::DeserializeOwned, Serialize};

use crate::Problem;

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

/// Decodes a request body; any syntax or type error becomes a 400 problem.
pub fn from_body<T: DeserializeOwned>(body: &mut [u8]) -> Result<T, Problem> {
    simd_json::serde::from_slice(body).map_err(|err| {
        Problem::bad_request(format!(
            "Request body is not valid JSON for this resource: {err}"
        ))
    })
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

    #[test]
    fn encodes_and_escapes() {
        assert_eq!(&to_bytes(&["a\"b\n"], 8)[..], br#"["a\"b\n"]"#);
    }
}
