//! The values of `GET /api/fights/stats`, and how the top winners are ranked and merged.

use std::cmp::Ordering;

use serde::Serialize;

/// The winners listed in [`Stats::top_winners`].
pub const TOP_WINNERS: usize = 10;

/// The answer of `GET /api/fights/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Every stored fight: each is won by one of the two teams.
    pub fights: i64,
    pub wins: Wins,
    /// The [`TOP_WINNERS`] fighters with the most wins, most first; ties by name, then team.
    pub top_winners: Vec<Winner>,
}

/// Fights won by each team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Wins {
    pub heroes: i64,
    pub villains: i64,
}

/// A fighter and the fights it won. A name in both teams is two winners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Winner {
    pub name: String,
    pub team: &'static str,
    pub wins: i64,
}

impl Winner {
    /// The order of the top list: most wins first, ties by name, then team.
    fn rank(&self, other: &Self) -> Ordering {
        other
            .wins
            .cmp(&self.wins)
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.team.cmp(other.team))
    }
}

/// Puts `winner` into `top`, kept in rank order and at most [`TOP_WINNERS`] long, so that
/// a top list folds any number of winners in the memory of ten.
fn push_top(top: &mut Vec<Winner>, winner: Winner) {
    let at = top.partition_point(|kept| kept.rank(&winner) == Ordering::Less);
    if at < TOP_WINNERS {
        top.insert(at, winner);
        top.truncate(TOP_WINNERS);
    }
}

impl Stats {
    /// The statistics of fights won as `wins` counts, from each team's own top list. Under
    /// one total order (wins down, name up, team up) every one of the overall top winners
    /// is among its team's top ones, so merging the two lists gives the overall top
    /// without one query grouping by name and team together.
    pub fn new(wins: Wins, heroes: Vec<Winner>, villains: Vec<Winner>) -> Self {
        let mut top_winners = Vec::new();
        for winner in heroes.into_iter().chain(villains) {
            push_top(&mut top_winners, winner);
        }
        Self {
            fights: wins.heroes.saturating_add(wins.villains),
            wins,
            top_winners,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn winners(team: &'static str, list: &[(&str, i64)]) -> Vec<Winner> {
        list.iter()
            .map(|&(name, wins)| Winner {
                name: name.to_owned(),
                team,
                wins,
            })
            .collect()
    }

    #[test]
    fn top_winners_merge_both_teams_most_wins_first_ties_by_name() {
        let heroes = winners("heroes", &[("Yoda", 5), ("Luke", 3), ("Anakin", 3)]);
        let villains = winners("villains", &[("Vader", 4), ("Anakin", 3), ("Boba", 1)]);
        let wins = Wins {
            heroes: 11,
            villains: 8,
        };

        let stats = Stats::new(wins.clone(), heroes, villains);

        let order: Vec<_> = stats
            .top_winners
            .iter()
            .map(|w| (w.name.as_str(), w.team, w.wins))
            .collect();
        assert_eq!(
            order,
            [
                ("Yoda", "heroes", 5),
                ("Vader", "villains", 4),
                ("Anakin", "heroes", 3),
                ("Anakin", "villains", 3),
                ("Luke", "heroes", 3),
                ("Boba", "villains", 1),
            ]
        );
        assert_eq!((stats.fights, stats.wins), (19, wins));
    }

    #[test]
    fn top_winners_keep_ten_and_names_sort_by_bytes() {
        let names: Vec<String> = (0..10).map(|n| format!("H{n}")).collect();
        let list: Vec<_> = names.iter().map(|n| (n.as_str(), 2)).collect();
        let villains = winners("villains", &[("a", 2), ("B", 2), ("É", 9)]);

        let stats = Stats::new(Wins::default(), winners("heroes", &list), villains);

        let names: Vec<_> = stats.top_winners.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            ["É", "B", "H0", "H1", "H2", "H3", "H4", "H5", "H6", "H7"]
        );
    }

    #[test]
    fn a_top_list_folded_one_by_one_is_the_sorted_head() {
        let all: Vec<Winner> = (0..200_i64)
            .map(|n| Winner {
                name: format!("N{}", (n * 37) % 101),
                team: if n % 2 == 0 { "heroes" } else { "villains" },
                wins: (n * 53) % 17,
            })
            .collect();
        let mut top = Vec::new();
        for winner in all.iter().cloned() {
            push_top(&mut top, winner);
        }

        let mut sorted = all;
        sorted.sort_by(Winner::rank);
        sorted.truncate(TOP_WINNERS);
        assert_eq!(top, sorted);
    }

    #[test]
    fn stats_serialize_as_the_api_shape() {
        let stats = Stats::new(Wins::default(), Vec::new(), Vec::new());
        let json = kit::json::to_bytes(&stats, 64);
        assert_eq!(
            &json[..],
            br#"{"fights":0,"wins":{"heroes":0,"villains":0},"topWinners":[]}"#
        );
        let stats = Stats::new(Wins::default(), winners("heroes", &[("Yoda", 1)]), vec![]);
        let json = kit::json::to_bytes(&stats.top_winners, 64);
        assert_eq!(&json[..], br#"[{"name":"Yoda","team":"heroes","wins":1}]"#);
    }
}
