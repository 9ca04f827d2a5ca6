//! The fight statistics: their values and the top-winners merge ([`values`]), and the
//! snapshot that answers them off the fight path ([`snapshot`]). Their queries are in
//! `store::stats`, with every other query.

mod snapshot;
mod values;

pub use snapshot::StatsCache;
pub use values::{Stats, Winner, Wins, TOP_WINNERS};
