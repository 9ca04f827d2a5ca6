//! Narration, written by fights itself with no network and no language model: the story
//! of a fight ([`narrate`]) and its poster ([`Poster`]).

mod poster;
mod story;

pub use poster::{Poster, PATH as POSTER_PATH};
pub use story::narrate;
