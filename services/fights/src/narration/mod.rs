//! Narration, written by fights itself with no network and no language model: the story
//! of a fight ([`narrate`]) and its poster ([`Poster`]).

mod poster;
mod story;

pub use poster::{Poster, PATH as POSTER_PATH};
pub use story::narrate;

/// `text` cut to at most `max` characters, on a character boundary: what a client sends
/// bounds neither the story nor the poster.
fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
