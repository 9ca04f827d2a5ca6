//! The rules of HTTP every service follows the same way, applied by the serve loop
//! before a request reaches the service: a well-formed head (one Host, a URI of bounded
//! length, no expectation but `100-continue`), JSON bodies, one trailing-slash rule, and
//! which methods a path answers besides those the service routes (HEAD wherever GET is
//! served, OPTIONS everywhere), whether a client asks for a document in JSON, and the
//! absolute URL of a path on the host a request named (`Location`, links in answers).

use http::{header, request::Parts, HeaderValue, Method, StatusCode, Uri, Version};

use crate::Problem;

/// Longest request target (path and query) served; longer ones get 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Longest piece of client input quoted back in a problem detail.
const QUOTE_CHARS: usize = 40;

/// Checks the head of a request before its body is read; `has_body` tells whether one
/// follows.
pub fn check_head(parts: &Parts, has_body: bool) -> Result<(), Problem> {
    if parts.version == Version::HTTP_11 {
        let mut hosts = parts.headers.get_all(header::HOST).iter();
        if hosts.next().is_none() || hosts.next().is_some() {
            return Err(Problem::bad_request(
                "An HTTP/1.1 request needs exactly one Host header",
            ));
        }
    }
    let uri_len = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Err(Problem::new(
            StatusCode::URI_TOO_LONG,
            format!("The request URI is longer than {MAX_URI_BYTES} bytes"),
        ));
    }
    if let Some(expect) = parts.headers.get(header::EXPECT) {
        if !expect.as_bytes().eq_ignore_ascii_case(b"100-continue") {
            return Err(Problem::new(
                StatusCode::EXPECTATION_FAILED,
                "The only expectation supported is Expect: 100-continue",
            ));
        }
    }
    let takes_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
    if takes_body && has_body {
        let content_type = parts.headers.get(header::CONTENT_TYPE);
        if !content_type.is_some_and(is_json) {
            let got = content_type
                .map(|v| quote(&String::from_utf8_lossy(v.as_bytes())))
                .unwrap_or_else(|| "none".to_owned());
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "The request body must be JSON (Content-Type: application/json), got {got}"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a Content-Type names JSON: `application/json` or `application/<x>+json`,
/// parameters such as `charset` allowed.
fn is_json(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let suffix = subtype
        .get(subtype.len().saturating_sub(5)..)
        .unwrap_or_default();
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || suffix.eq_ignore_ascii_case("+json"))
}

/// The URI to route when `uri`'s path ends in a slash: the same path without its
/// trailing slashes (`/api/heroes/` is `/api/heroes`), so that every service treats
/// them alike. `None` when there is nothing to strip, the common case, which then
/// costs no allocation.
pub fn without_trailing_slash(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if path.len() <= 1 || !path.ends_with('/') {
        return None;
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// `text` in quotes for a problem detail, cut to a few dozen characters: enough to
/// recognise, never a whole echo of client input.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("'{}…'", &text[..cut]),
        None => format!("'{text}'"),
    }
}

/// Whether a document served in YAML and JSON is asked for in JSON: `?format=json`
/// (as Quarkus names it), or else an `Accept` listing `application/json` before any YAML
/// type. A browser's `*/*`, or no `Accept`, gets YAML, the document as kept.
pub fn wants_json(parts: &Parts) -> bool {
    if let Ok(Some(format)) = crate::query::param(parts.uri.query(), "format") {
        return format.eq_ignore_ascii_case("json");
    }
    let accept = parts.headers.get_all(header::ACCEPT).iter();
    let mut types = accept
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.split(';').next().unwrap_or("").trim());
    types
        .find(|kind| {
            kind.eq_ignore_ascii_case("application/json")
                || kind.eq_ignore_ascii_case("application/yaml")
                || kind.eq_ignore_ascii_case("text/yaml")
        })
        .is_some_and(|kind| kind.eq_ignore_ascii_case("application/json"))
}

/// The `Allow` value of a path whose service routes `methods` (comma-separated): HEAD
/// follows GET, OPTIONS comes last.
pub fn allow_header(methods: &str) -> HeaderValue {
    let mut allow = String::with_capacity(methods.len() + 16);
    for method in methods.split(',').map(str::trim) {
        if !allow.is_empty() {
            allow.push_str(", ");
        }
        allow.push_str(method);
        if method == "GET" {
            allow.push_str(", HEAD");
        }
    }
    allow.push_str(", OPTIONS");
    HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("OPTIONS"))
}

/// The `Location` of `path` on the server a request was sent to, absolute as the
/// original sends it (`http://{authority}{path}`): the request target's authority (HTTP/2,
/// or an absolute-form target) or else its `Host`. A Host that is no plain authority
/// (user info, spaces, bytes outside ASCII) is never echoed; the path alone is the answer
/// then, still a valid `Location`.
pub fn location(request: &http::request::Parts, path: &str) -> Option<http::HeaderValue> {
    let authority = request
        .uri
        .authority()
        .cloned()
        .or_else(|| {
            let host = request.headers.get(http::header::HOST)?.to_str().ok()?;
            host.parse::<http::uri::Authority>().ok()
        })
        .filter(|authority| !authority.as_str().contains('@'));
    authority
        .and_then(|authority| http::HeaderValue::try_from(format!("http://{authority}{path}")).ok())
        .or_else(|| http::HeaderValue::try_from(path).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks_json(uri: &str, accept: Option<&str>) -> bool {
        let mut request = http::Request::get(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let (parts, ()) = request
            .body(())
            .map(http::Request::into_parts)
            .unwrap_or_else(|_| http::Request::new(()).into_parts());
        wants_json(&parts)
    }

    #[test]
    fn json_is_asked_by_format_or_accept() {
        assert!(asks_json("/q/openapi?format=json", None));
        assert!(asks_json(
            "/q/openapi?format=JSON",
            Some("application/yaml")
        ));
        assert!(!asks_json(
            "/q/openapi?format=yaml",
            Some("application/json")
        ));
        assert!(asks_json("/q/openapi", Some("application/json")));
        assert!(asks_json(
            "/q/openapi",
            Some("text/plain, application/json;q=0.9")
        ));
        assert!(!asks_json(
            "/q/openapi",
            Some("application/yaml, application/json")
        ));
        assert!(!asks_json("/q/openapi", Some("text/html,*/*;q=0.8")));
        assert!(!asks_json("/q/openapi", None));
    }

    fn head(request: http::request::Builder) -> Parts {
        request
            .body(())
            .map(|r| r.into_parts().0)
            .unwrap_or_else(|err| panic!("test request: {err}"))
    }

    fn status(parts: &Parts, has_body: bool) -> Option<u16> {
        check_head(parts, has_body).err().map(|p| p.status.as_u16())
    }

    #[test]
    fn http_1_1_needs_exactly_one_host() {
        let get = || http::Request::get("/x").version(Version::HTTP_11);
        assert_eq!(status(&head(get().header("host", "a")), false), None);
        assert_eq!(status(&head(get()), false), Some(400));
        let two = head(get().header("host", "a").header("host", "b"));
        assert_eq!(status(&two, false), Some(400));
        let old = head(http::Request::get("/x").version(Version::HTTP_10));
        assert_eq!(status(&old, false), None);
    }

    #[test]
    fn long_uris_and_unknown_expectations_are_refused() {
        let long = format!("/x?{}", "a".repeat(MAX_URI_BYTES));
        let request = http::Request::get(long.as_str()).header("host", "a");
        assert_eq!(status(&head(request), false), Some(414));
        let expect = |value| {
            http::Request::get("/x")
                .header("host", "a")
                .header("expect", value)
        };
        assert_eq!(status(&head(expect("100-continue")), false), None);
        assert_eq!(status(&head(expect("200-ok")), false), Some(417));
    }

    #[test]
    fn bodies_must_be_json() {
        let post = |ct: Option<&str>| {
            let request = http::Request::post("/x").header("host", "a");
            head(match ct {
                Some(ct) => request.header("content-type", ct),
                None => request,
            })
        };
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert_eq!(status(&post(Some(ok)), true), None, "{ok}");
        }
        for bad in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("json"),
            None,
        ] {
            assert_eq!(status(&post(bad), true), Some(415), "{bad:?}");
        }
        // No body, or a method that takes none: the type does not matter.
        assert_eq!(status(&post(Some("text/plain")), false), None);
        let get = http::Request::get("/x")
            .header("host", "a")
            .header("content-type", "text/plain");
        assert_eq!(status(&head(get), true), None);
    }

    #[test]
    fn trailing_slashes_are_stripped() {
        let strip = |uri: &str| {
            without_trailing_slash(&uri.parse().unwrap_or_default()).map(|u| u.to_string())
        };
        assert_eq!(strip("/api/heroes"), None);
        assert_eq!(strip("/"), None);
        assert_eq!(strip("/api/heroes/").as_deref(), Some("/api/heroes"));
        assert_eq!(
            strip("/api/heroes//?a=1").as_deref(),
            Some("/api/heroes?a=1")
        );
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quote("abc"), "'abc'");
        let long = quote(&"é".repeat(100));
        assert_eq!(long.chars().count(), 40 + 3);
    }

    #[test]
    fn head_follows_get_and_options_comes_last() {
        assert_eq!(allow_header("GET"), "GET, HEAD, OPTIONS");
        assert_eq!(
            allow_header("GET, POST, PUT, DELETE"),
            "GET, HEAD, POST, PUT, DELETE, OPTIONS"
        );
        assert_eq!(allow_header("POST"), "POST, OPTIONS");
    }

    #[test]
    fn locations_are_absolute_on_a_plain_authority_else_the_path() {
        let location = |request: http::request::Builder| {
            let parts = request
                .body(())
                .map(|r| r.into_parts().0)
                .unwrap_or_else(|err| panic!("test request: {err}"));
            location(&parts, "/api/heroes/7")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let on = |host: &[u8]| location(http::Request::post("/api/heroes").header("host", host));
        assert_eq!(
            on(b"heroes:8001").as_deref(),
            Some("http://heroes:8001/api/heroes/7")
        );
        assert_eq!(
            on(b"[::1]:80").as_deref(),
            Some("http://[::1]:80/api/heroes/7")
        );
        for odd in [&b"h\xc3\xa9ros"[..], b"a@b", b"a b", b"a/b", b""] {
            assert_eq!(on(odd).as_deref(), Some("/api/heroes/7"), "{odd:?}");
        }
        assert_eq!(
            location(http::Request::post("/api/heroes")).as_deref(),
            Some("/api/heroes/7")
        );
        assert_eq!(
            location(http::Request::post("http://front:80/api/heroes").header("host", "back"))
                .as_deref(),
            Some("http://front:80/api/heroes/7")
        );
    }
}
