//! The portraits behind the seed rows' pictures: the name's initials on a colour taken
//! from the name, drawn as SVG, so that every UI shows a picture without a network.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use crate::response::{self, Response};

/// Longest file name drawn; a longer one is an unknown path, so what a client sends
/// bounds the work.
const MAX_FILE: usize = 200;
/// Longest caption under the initials, in characters.
const MAX_CAPTION: usize = 28;

/// The portrait `file` names (`<name-slug>-<number>.svg`, as `database/seed.py` writes
/// them: lowercase ASCII letters, digits and hyphens), or `None` for any other name.
/// The same name always gives the same bytes, so the answer may be cached for a day.
pub fn response(file: &str) -> Option<Response> {
    let drawn = svg(file)?;
    let mut response = response::bytes(
        StatusCode::OK,
        HeaderValue::from_static("image/svg+xml"),
        Bytes::from(drawn),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Some(response)
}

/// The SVG of `file` (240 by 320), or `None` for a name that is not a portrait's. Only
/// slug characters reach the markup, so nothing needs escaping.
pub fn svg(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".svg")?;
    let slug_only = stem
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if stem.is_empty() || file.len() > MAX_FILE || !slug_only {
        return None;
    }
    let words: Vec<&str> = stem
        .split('-')
        .filter(|word| !word.is_empty() && !word.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let initials: String = words
        .iter()
        .take(2)
        .filter_map(|word| word.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let mut caption = String::with_capacity(MAX_CAPTION + 1);
    for word in &words {
        if caption.len() + word.len() + 1 > MAX_CAPTION {
            break;
        }
        if !caption.is_empty() {
            caption.push(' ');
        }
        let mut chars = word.chars();
        caption.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        caption.push_str(chars.as_str());
    }
    // FNV-1a over the words: a stable hue per name.
    let hue = words
        .iter()
        .flat_map(|word| word.bytes())
        .fold(0x811c_9dc5_u32, |hash, b| {
            (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
        % 360;
    let initials = if initials.is_empty() { "?" } else { &initials };
    Some(format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320">"##,
            r##"<rect width="240" height="320" fill="hsl({hue},45%,32%)"/>"##,
            r##"<circle cx="120" cy="140" r="78" fill="hsl({hue},45%,45%)"/>"##,
            r##"<text x="120" y="140" dy=".35em" text-anchor="middle" font-family="sans-serif" "##,
            r##"font-size="72" font-weight="700" fill="#fff">{initials}</text>"##,
            r##"<text x="120" y="280" text-anchor="middle" font-family="sans-serif" "##,
            r##"font-size="18" fill="#fff">{caption}</text></svg>"##
        ),
        hue = hue,
        initials = initials,
        caption = caption
    ))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_file_name_draws_its_initials_and_name() {
        let drawn = svg("captain-meridian-1234567890.svg").expect("a seed name");
        assert!(drawn.starts_with("<svg "), "{drawn}");
        assert!(drawn.contains(">CM</text>"), "{drawn}");
        assert!(drawn.contains(">Captain Meridian</text>"), "{drawn}");
        assert_eq!(Some(drawn), svg("captain-meridian-1234567890.svg"));
    }

    #[test]
    fn the_colour_follows_the_name_not_the_number() {
        let hue = |file| {
            let drawn = svg(file).expect("a seed name");
            drawn
                .split("hsl(")
                .nth(1)
                .map(|s| s.split(',').next().map(str::to_owned))
        };
        assert_eq!(hue("night-wolf-1.svg"), hue("night-wolf-99.svg"));
        assert_ne!(hue("night-wolf-1.svg"), hue("iron-comet-1.svg"));
    }

    #[test]
    fn other_names_are_not_drawn() {
        for file in [
            "",
            ".svg",
            "night-wolf.png",
            "Night-wolf-1.svg",
            "night wolf.svg",
            "<script>.svg",
            "../etc-1.svg",
            &format!("{}.svg", "a".repeat(MAX_FILE)),
        ] {
            assert_eq!(svg(file), None, "{file}");
        }
    }

    #[test]
    fn the_answer_is_cacheable_svg() {
        let answer = response("iron-comet-42.svg").expect("a seed name");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "image/svg+xml");
        assert_eq!(
            answer.headers()[header::CACHE_CONTROL],
            "public, max-age=86400"
        );
    }
}
