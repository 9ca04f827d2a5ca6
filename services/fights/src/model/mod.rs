//! The values of the fights service and the validation of what clients send: fighters
//! and locations as the other services send them and the fight request
//! ([`fighter`]), a fight as answered and stored ([`fight`]), and the narration
//! requests and answers ([`narration`]).

mod fight;
mod fighter;
mod narration;

pub use fight::{Fight, FightDoc};
pub use fighter::{validate, FightLocation, FightRequest, Fighter, FighterInput, Fighters};
pub use narration::{
    FightImage, FightToNarrate, ImageRequest, NarrationLocation, NarrationRequest,
};
