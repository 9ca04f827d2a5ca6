//! The picture of a narration: an SVG poster with the winner's and the loser's portraits
//! and the story under them, drawn by fights itself so that the image of a narration is
//! never a dead link, with no network and no model.
//!
//! Everything the poster shows travels in its URL (`/api/fights/narrate/poster?...`), so
//! any replica draws it, at any time, and the same URL always gives the same bytes. The
//! story is cut to [`MAX_TEXT`] characters and each picture URL to [`MAX_PICTURE`], so
//! that the URL stays well under the request-target bound and the drawing bounded.

use std::fmt::Write;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::clip;

/// Longest story drawn, in characters; a longer one ends with an ellipsis.
pub const MAX_TEXT: usize = 480;
/// Longest picture URL kept; a longer one is drawn as a blank frame.
pub const MAX_PICTURE: usize = 255;
/// The path of the poster, answered by `GET`.
pub const PATH: &str = "/api/fights/narrate/poster";

/// Characters of a story per line on the poster.
const LINE: usize = 92;

/// Query characters left as they are: unreserved ones; everything else is encoded.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a poster shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Poster<'a> {
    pub text: &'a str,
    pub winner_picture: &'a str,
    pub loser_picture: &'a str,
}

impl<'a> Poster<'a> {
    /// The poster of `text` and two picture URLs, each cut to its bound.
    pub fn new(text: &'a str, winner_picture: &'a str, loser_picture: &'a str) -> Self {
        Self {
            text: clip(text, MAX_TEXT),
            winner_picture: bounded_picture(winner_picture),
            loser_picture: bounded_picture(loser_picture),
        }
    }

    /// The query string that draws this poster again: `text`, `winner`, `loser`.
    pub fn query(&self) -> String {
        let mut query = String::with_capacity(self.text.len() * 3 + 64);
        for (name, value) in [
            ("text", self.text),
            ("winner", self.winner_picture),
            ("loser", self.loser_picture),
        ] {
            if !query.is_empty() {
                query.push('&');
            }
            let _ = write!(query, "{name}={}", utf8_percent_encode(value, QUERY));
        }
        query
    }

    /// The poster as SVG, 960 by 600.
    pub fn svg(&self) -> String {
        let mut out = String::with_capacity(6 * 1024 + self.text.len() * 2);
        out.push_str(concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="600" viewBox="0 0 960 600">"##,
            r##"<rect width="960" height="600" fill="#141821"/>"##,
            r##"<text x="480" y="64" text-anchor="middle" font-family="sans-serif" font-size="34" "##,
            r##"font-weight="700" fill="#f5c542">The fight, as told</text>"##,
            r##"<text x="480" y="200" text-anchor="middle" font-family="sans-serif" font-size="64" "##,
            r##"font-weight="700" fill="#e0e0e0">VS</text>"##,
        ));
        portrait(&mut out, 40, self.winner_picture, "Winner", "#3fb950");
        portrait(&mut out, 680, self.loser_picture, "Loser", "#f85149");
        for (at, line) in wrap(self.text, LINE).iter().enumerate().take(6) {
            let _ = write!(
                out,
                r##"<text x="40" y="{}" font-family="serif" font-size="17" fill="#e0e0e0">"##,
                440 + 24 * at
            );
            escape(line, &mut out);
            out.push_str("</text>");
        }
        out.push_str("</svg>");
        out
    }
}

/// A framed portrait at `x`: the drawing of the picture when it names one of the seed
/// portraits, else a blank frame, and its caption.
fn portrait(out: &mut String, x: u32, picture: &str, caption: &str, colour: &str) {
    let _ = write!(out, r#"<g transform="translate({x},90)">"#);
    let file = picture.rsplit('/').next().unwrap_or("");
    match kit::portrait::svg(file) {
        Some(drawing) => out.push_str(&drawing),
        None => out.push_str(concat!(
            r##"<rect width="240" height="320" fill="#2d333b"/>"##,
            r##"<text x="120" y="170" text-anchor="middle" font-family="sans-serif" "##,
            r##"font-size="96" fill="#768390">?</text>"##,
        )),
    }
    let _ = write!(
        out,
        concat!(
            r##"<rect width="240" height="320" fill="none" stroke="{colour}" stroke-width="6"/>"##,
            r##"<text x="120" y="-12" text-anchor="middle" font-family="sans-serif" "##,
            r##"font-size="20" font-weight="700" fill="{colour}">{caption}</text></g>"##
        ),
        colour = colour,
        caption = caption
    );
}

/// `text` in lines of at most `width` characters, broken between words (a longer word
/// is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = clip(word, width);
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Appends `text` with the five characters XML gives a meaning escaped.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

fn bounded_picture(picture: &str) -> &str {
    if picture.len() > MAX_PICTURE {
        ""
    } else {
        picture
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_portraits_are_drawn_and_other_pictures_framed() {
        let poster = Poster::new(
            "Night Wolf won.",
            "http://localhost:8001/api/heroes/pictures/night-wolf-12.svg",
            "https://example.com/elsewhere.jpg",
        );
        let svg = poster.svg();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(">NW</text>"), "{svg}");
        assert!(svg.contains(">?</text>"), "{svg}");
        assert!(svg.contains(">Night Wolf won.</text>"), "{svg}");
    }

    #[test]
    fn text_is_escaped_and_bounded() {
        let text = format!("<script>&\"'{}", "word ".repeat(1_000));
        let long_picture = "x".repeat(MAX_PICTURE + 1);
        let poster = Poster::new(&text, &long_picture, "");
        assert_eq!(poster.text.chars().count(), MAX_TEXT);
        assert_eq!(poster.winner_picture, "");
        let svg = poster.svg();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;&apos;"));
        assert!(svg.len() < 16 * 1024, "{}", svg.len());
        assert!(poster.query().len() < 4 * 1024);
    }

    #[test]
    fn the_query_draws_the_same_poster_again() {
        let poster = Poster::new("Fog & steel: é", "a/b-c-1.svg", "");
        let query = poster.query();
        assert_eq!(
            query,
            "text=Fog%20%26%20steel%3A%20%C3%A9&winner=a%2Fb-c-1.svg&loser="
        );
        let decoded = |name| {
            kit::query::param(Some(&query), name)
                .ok()
                .flatten()
                .map(|value| value.into_owned())
        };
        assert_eq!(decoded("text").as_deref(), Some(poster.text));
        assert_eq!(decoded("winner").as_deref(), Some(poster.winner_picture));
    }

    #[test]
    fn lines_break_between_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap(&"x".repeat(12), 5), ["xxxxx"]);
        assert!(wrap("   ", 5).is_empty());
    }
}
