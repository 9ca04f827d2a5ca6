//! What fights answers for a hero, villain or location when its service cannot supply
//! one: the original system's fallbacks, word for word.

use crate::{
    fight::HEROES,
    model::{FightLocation, Fighter},
};

/// The fallback hero's and villain's pictures, also the picture of a fighter of that team
/// stored without one: the original's `Fight` schema requires both pictures.
pub const HERO_PICTURE: &str = "https://dummyimage.com/240x320/1e8fff/ffffff&text=Fallback+Hero";
pub const VILLAIN_PICTURE: &str =
    "https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Villain";

/// The picture of a fighter of `team` that has none of its own.
pub fn picture(team: &str) -> &'static str {
    if team == HEROES {
        HERO_PICTURE
    } else {
        VILLAIN_PICTURE
    }
}

/// The hero served when the heroes service cannot supply one.
pub fn hero() -> Fighter {
    Fighter {
        name: "Fallback hero".to_owned(),
        level: 1,
        picture: Some(HERO_PICTURE.to_owned()),
        powers: Some("Fallback hero powers".to_owned()),
    }
}

/// The villain served when the villains service cannot supply one.
pub fn villain() -> Fighter {
    Fighter {
        name: "Fallback villain".to_owned(),
        level: 45,
        picture: Some(VILLAIN_PICTURE.to_owned()),
        powers: Some("Fallback villain powers".to_owned()),
    }
}

/// The location served when the locations service cannot supply one.
pub fn location() -> FightLocation {
    FightLocation {
        name: "Fallback location".to_owned(),
        description: Some(
            "This is a fallback location. Not generally someplace you'd like to visit.".to_owned(),
        ),
        picture: Some(
            "https://dummyimage.com/240x320/b22222/ffffff&text=Fallback+Location".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_match_the_contract() {
        let json = kit::json::to_bytes(&hero(), 256);
        assert_eq!(
            &json[..],
            br#"{"name":"Fallback hero","level":1,"picture":"https://dummyimage.com/240x320/1e8fff/ffffff&text=Fallback+Hero","powers":"Fallback hero powers"}"#
        );
        assert_eq!(villain().level, 45);
        assert_eq!(location().name, "Fallback location");
    }
}
