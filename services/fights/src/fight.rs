//! The fight rule: who wins when a hero meets a villain. Pure: the random draws come in
//! as a [`Roll`], and the caller gives the outcome its id and date.

use crate::model::{FightLocation, Fighter};

/// What the fight rule decided: the winner and the loser with their teams, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub winner: Fighter,
    pub winner_team: &'static str,
    pub loser: Fighter,
    pub loser_team: &'static str,
    pub location: Option<FightLocation>,
}

/// The team names of a fight's winner and loser.
pub const HEROES: &str = "heroes";
pub const VILLAINS: &str = "villains";

/// The random draws of one fight, separate from the rule so tests can force every branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roll {
    /// Added to the hero's level, uniform in `0..=19`.
    pub hero_adjust: i64,
    /// Added to the villain's level, uniform in `0..=19`.
    pub villain_adjust: i64,
    /// Decides a fight neither level settles: `true` lets the hero win.
    pub hero_wins_toss: bool,
}

impl Roll {
    /// A fresh roll from the thread-local generator.
    pub fn random() -> Self {
        Self {
            hero_adjust: fastrand::i64(0..=19),
            villain_adjust: fastrand::i64(0..=19),
            hero_wins_toss: fastrand::bool(),
        }
    }
}

/// The side that won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    Hero,
    Villain,
}

/// The rule of the original system: each side adds its roll (`0..=19`) to its level and
/// the hero wins with the higher total; otherwise the villain wins when its level is
/// higher than the hero's, and a fair coin decides the rest. Sums are taken in `i128`
/// so that no level, however large, overflows.
pub fn winner(hero: &Fighter, villain: &Fighter, roll: Roll) -> Winner {
    let hero_total = i128::from(hero.level) + i128::from(roll.hero_adjust);
    let villain_total = i128::from(villain.level) + i128::from(roll.villain_adjust);
    if hero_total > villain_total {
        Winner::Hero
    } else if hero.level < villain.level {
        Winner::Villain
    } else if roll.hero_wins_toss {
        Winner::Hero
    } else {
        Winner::Villain
    }
}

/// Fights `hero` against `villain` at `location`.
pub fn fight(
    hero: Fighter,
    villain: Fighter,
    location: Option<FightLocation>,
    roll: Roll,
) -> Outcome {
    let (winner, winner_team, loser, loser_team) = match winner(&hero, &villain, roll) {
        Winner::Hero => (hero, HEROES, villain, VILLAINS),
        Winner::Villain => (villain, VILLAINS, hero, HEROES),
    };
    Outcome {
        winner,
        winner_team,
        loser,
        loser_team,
        location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fighter(level: i64) -> Fighter {
        Fighter {
            name: "f".to_owned(),
            level,
            picture: None,
            powers: None,
        }
    }

    fn roll(hero_adjust: i64, villain_adjust: i64, hero_wins_toss: bool) -> Roll {
        Roll {
            hero_adjust,
            villain_adjust,
            hero_wins_toss,
        }
    }

    #[test]
    fn higher_total_wins() {
        assert_eq!(
            winner(&fighter(10), &fighter(5), roll(0, 0, false)),
            Winner::Hero
        );
        assert_eq!(
            winner(&fighter(5), &fighter(10), roll(19, 0, false)),
            Winner::Hero
        );
    }

    #[test]
    fn lower_level_hero_loses_when_not_ahead() {
        assert_eq!(
            winner(&fighter(5), &fighter(10), roll(0, 0, true)),
            Winner::Villain
        );
        assert_eq!(
            winner(&fighter(5), &fighter(10), roll(5, 0, true)),
            Winner::Villain
        );
    }

    #[test]
    fn ties_go_to_the_coin() {
        assert_eq!(
            winner(&fighter(10), &fighter(10), roll(3, 3, true)),
            Winner::Hero
        );
        assert_eq!(
            winner(&fighter(10), &fighter(10), roll(3, 3, false)),
            Winner::Villain
        );
        // Hero level higher but overtaken by the villain's roll: not lower, so the coin.
        assert_eq!(
            winner(&fighter(12), &fighter(10), roll(0, 19, true)),
            Winner::Hero
        );
        assert_eq!(
            winner(&fighter(12), &fighter(10), roll(0, 19, false)),
            Winner::Villain
        );
    }

    #[test]
    fn huge_levels_do_not_overflow() {
        let big = 600_000_001;
        assert_eq!(
            winner(&fighter(big + 1), &fighter(big), roll(0, 0, false)),
            Winner::Hero
        );
        assert_eq!(
            winner(&fighter(big), &fighter(big + 1), roll(0, 0, true)),
            Winner::Villain
        );
        let max = i64::MAX;
        assert_eq!(
            winner(&fighter(max), &fighter(max - 1), roll(19, 19, false)),
            Winner::Hero
        );
        assert_eq!(
            winner(&fighter(max), &fighter(max), roll(19, 0, false)),
            Winner::Hero
        );
        let i32_max = i64::from(i32::MAX);
        assert_eq!(
            winner(&fighter(i32_max), &fighter(i32_max), roll(0, 0, false)),
            Winner::Villain
        );
    }

    #[test]
    fn the_winner_and_loser_carry_their_teams() {
        let mut hero = fighter(100);
        hero.name = "Yoda".to_owned();
        let outcome = fight(hero, fighter(1), None, roll(0, 0, false));
        assert_eq!(
            (outcome.winner.name.as_str(), outcome.winner_team),
            ("Yoda", HEROES)
        );
        assert_eq!((outcome.loser.level, outcome.loser_team), (1, VILLAINS));
        let outcome = fight(fighter(1), fighter(100), None, roll(0, 0, true));
        assert_eq!((outcome.winner.level, outcome.winner_team), (100, VILLAINS));
    }

    #[test]
    fn random_rolls_stay_in_range() {
        for _ in 0..1_000 {
            let r = Roll::random();
            assert!((0..=19).contains(&r.hero_adjust) && (0..=19).contains(&r.villain_adjust));
        }
    }
}
