//! The rules of HTTP every service follows the same way, applied by the serve loop
//! before a request reaches the service: which methods a path answers besides those the
//! service routes (HEAD wherever GET is served, OPTIONS everywhere).

use http::HeaderValue;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_follows_get_and_options_comes_last() {
        assert_eq!(allow_header("GET"), "GET, HEAD, OPTIONS");
        assert_eq!(
            allow_header("GET, POST, PUT, DELETE"),
            "GET, HEAD, POST, PUT, DELETE, OPTIONS"
        );
        assert_eq!(allow_header("POST"), "POST, OPTIONS");
    }
}
