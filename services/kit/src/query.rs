//! Query strings: `a=1&b=x%20y` pairs, percent-decoded, with invalid UTF-8 refused.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::Problem;

/// The decoded value of query parameter `name`, if present. A value that is not valid
/// UTF-8 after decoding is a 400.
pub fn param<'a>(query: Option<&'a str>, name: &str) -> Result<Option<Cow<'a, str>>, Problem> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(key)? == name {
            return decode(value).map(Some);
        }
    }
    Ok(None)
}

/// Percent-decodes one component of a URL (`+` stands for a space in a query).
pub fn decode(raw: &str) -> Result<Cow<'_, str>, Problem> {
    let invalid = |_| Problem::bad_request("URL is not valid UTF-8 after percent-decoding");
    if raw.contains('+') {
        let spaced = raw.replace('+', " ");
        let text = percent_decode_str(&spaced).decode_utf8().map_err(invalid)?;
        return Ok(Cow::Owned(text.into_owned()));
    }
    percent_decode_str(raw).decode_utf8().map_err(invalid)
}

/// Parses an optional integer parameter, 400 on anything but an integer in range.
pub fn int_param<T: std::str::FromStr>(
    query: Option<&str>,
    name: &str,
) -> Result<Option<T>, Problem> {
    match param(query, name)? {
        None => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| {
            Problem::bad_request(format!(
                "Query parameter '{name}' must be an integer, got '{value}'"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_decodes() {
        assert_eq!(
            param(Some("a=1&name_filter=Sky%20W+x"), "name_filter")
                .ok()
                .flatten()
                .as_deref(),
            Some("Sky W x")
        );
        assert_eq!(param(Some("a=1"), "b").ok().flatten(), None);
        assert_eq!(param(None, "b").ok().flatten(), None);
        assert_eq!(
            param(Some("flag"), "flag").ok().flatten().as_deref(),
            Some("")
        );
    }

    #[test]
    fn invalid_utf8_is_400() {
        assert_eq!(
            param(Some("q=%ff"), "q").err().map(|p| p.status.as_u16()),
            Some(400)
        );
    }

    #[test]
    fn integers() {
        assert_eq!(
            int_param::<u32>(Some("page=3"), "page").ok().flatten(),
            Some(3)
        );
        assert!(int_param::<u32>(Some("page=x"), "page").is_err());
        assert!(int_param::<u32>(Some("page=-1"), "page").is_err());
    }
}
