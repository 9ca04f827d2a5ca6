//! The arena page served at `GET /`: one self-contained HTML file compiled into the
//! binary, so the page needs no build step, no file on disk and no network, and its
//! entity tag is a constant of the build.

use http::HeaderValue;

/// The page: inline CSS and script, relative URLs to this service's API.
pub const HTML: &str = include_str!("../static/index.html");

pub const CONTENT_TYPE: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// Browsers revalidate on every visit; an unchanged page costs a 304 without a body.
pub const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("no-cache");

/// What the page may do and nothing more: its own inline script and style, pictures from
/// anywhere (the catalogues hold picture URLs of other hosts) or generated as `data:`,
/// requests to this service only, and no framing.
pub const CONTENT_SECURITY_POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
     img-src * data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'",
);

/// A strong entity tag: the FNV-1a hash of the page, computed by the compiler.
pub const ETAG: HeaderValue = HeaderValue::from_static(ETAG_TEXT);

const ETAG_BYTES: [u8; 18] = quoted_hex(fnv1a(HTML.as_bytes()));
const ETAG_TEXT: &str = match std::str::from_utf8(&ETAG_BYTES) {
    Ok(text) => text,
    Err(_) => panic!("an entity tag of quotes and hex digits is ASCII"),
};

/// 64-bit FNV-1a: enough to tell two versions of one page apart, and a `const fn`.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `hash` as 16 lowercase hex digits between double quotes.
const fn quoted_hex(hash: u64) -> [u8; 18] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = DIGITS[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

/// Whether an `If-None-Match` value names the page as the client holds it: `*`, or a
/// list of entity tags one of which equals ours under the weak comparison that RFC 9110
/// prescribes for this header.
pub fn is_current(if_none_match: &HeaderValue) -> bool {
    let Ok(tags) = if_none_match.to_str() else {
        return false;
    };
    let ours = ETAG_TEXT;
    tags.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag == ours
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entity_tag_is_the_quoted_hash_of_the_page() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(&quoted_hex(0x0123_4567_89ab_cdef), b"\"0123456789abcdef\"");
        assert_eq!(ETAG_TEXT, format!("\"{:016x}\"", fnv1a(HTML.as_bytes())));
    }

    #[test]
    fn if_none_match_uses_the_weak_comparison() {
        let matches =
            |value: String| HeaderValue::from_str(&value).is_ok_and(|value| is_current(&value));
        assert!(matches(ETAG_TEXT.to_owned()));
        assert!(matches(format!("W/{ETAG_TEXT}")));
        assert!(matches(format!("\"other\", {ETAG_TEXT}")));
        assert!(matches("*".to_owned()));
        assert!(!matches("\"other\"".to_owned()));
        assert!(!matches(ETAG_TEXT.trim_matches('"').to_owned()));
        assert!(!matches(String::new()));
    }
}
