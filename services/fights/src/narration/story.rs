//! The story of a fight, written from the fight itself with no network and no model: a
//! few sentences from fixed templates and the fight's own words (names, levels, powers,
//! teams, the location and its description).
//!
//! The same fight always gives the same story, so a client may cache it and a test can
//! pin it; different fights pick different templates, because the choices come from a
//! hash of every field. What a client sends bounds the work and the size: each field is
//! cut to a few dozen characters before it reaches the text.

use std::fmt::Write;

use super::clip;
use crate::model::FightToNarrate;

/// Longest name written, in characters.
const MAX_NAME: usize = 50;
/// Longest power written, in characters.
const MAX_POWER: usize = 60;
/// Longest location description written, in characters.
const MAX_DESCRIPTION: usize = 240;

/// Where the fight takes place: `{place}` is the location, `{scene}` its description.
const SETTINGS: [&str; 4] = [
    "{place} has seen many battles, but none quite like this one. {scene}",
    "The air over {place} was still when the fight began. {scene}",
    "Nobody in {place} expected trouble that day. {scene}",
    "{scene} It was here, in {place}, that the two met.",
];

/// Who faces whom: `{w}`/`{l}` the names, `{wt}`/`{lt}` a fighter of each team,
/// `{wl}`/`{ll}` their levels.
const MEETINGS: [&str; 4] = [
    "{w}, a {wt} of level {wl}, stood against {l}, a {lt} of level {ll}.",
    "On one side stood {w}, level {wl}; on the other, {l}, level {ll}.",
    "{l}, a {lt} of level {ll}, came looking for a fight, and {w} was waiting.",
    "{w} and {l} had crossed paths before, but never with so much at stake.",
];

/// The exchange: `{wp}`/`{lp}` one power of each.
const CLASHES: [&str; 4] = [
    "{l} struck first with {lp}, but {w} answered with {wp}.",
    "{w} called on {wp}; {l} countered with {lp}.",
    "For a long moment {lp} seemed enough to decide it, until {w} turned to {wp}.",
    "{l} leaned on {lp} and {w} on {wp}, and neither gave an inch.",
];

/// How the levels weighed: `{d}` the difference.
const UNDERDOG: [&str; 2] = [
    "Few would have bet on {w}, {d} levels below {l}.",
    "{d} levels should have been too many to make up, yet {w} made them up.",
];
const FAVOURITE: [&str; 2] = [
    "In the end {w}'s {d} extra levels told.",
    "{l} fought bravely, but {d} levels are a lot to give away.",
];
const EVEN: [&str; 2] = [
    "They were as evenly matched as two fighters can be.",
    "Level for level there was nothing between them.",
];

/// The end: `{wteam}`/`{lteam}` the teams as sent.
const ENDINGS: [&str; 4] = [
    "When the dust settled, {w} stood alone: a win for the {wteam}.",
    "{l} fled, and {place} belonged to the {wteam} once more.",
    "It was over quickly after that. {w} wins, and the {lteam} will remember it.",
    "{w} won the day for the {wteam}; {l} will be back.",
];

/// The story of `fight`, a few sentences in plain words.
pub fn narrate(fight: &FightToNarrate) -> String {
    let seed = seed(fight);
    let pick = |options: &[&'static str], shift: u32| {
        let at = usize::try_from((seed >> shift) % options.len() as u64).unwrap_or(0);
        options[at]
    };
    let winner_level = fight.winner_level.unwrap_or(0);
    let loser_level = fight.loser_level.unwrap_or(0);
    let levels = match winner_level.cmp(&loser_level) {
        std::cmp::Ordering::Less => pick(&UNDERDOG, 24),
        std::cmp::Ordering::Greater => pick(&FAVOURITE, 24),
        std::cmp::Ordering::Equal => pick(&EVEN, 24),
    };
    let (place, scene) = match &fight.location {
        Some(location) => (
            clip(
                non_empty(location.name.as_deref()).unwrap_or("a nameless place"),
                MAX_NAME,
            ),
            first_sentence(location.description.as_deref().unwrap_or("")),
        ),
        None => ("a place with no name", ""),
    };
    let words = Words {
        w: clip(&fight.winner_name, MAX_NAME),
        l: clip(&fight.loser_name, MAX_NAME),
        wt: member(&fight.winner_team),
        lt: member(&fight.loser_team),
        wteam: clip(&fight.winner_team, MAX_NAME),
        lteam: clip(&fight.loser_team, MAX_NAME),
        wl: winner_level,
        ll: loser_level,
        d: winner_level.abs_diff(loser_level),
        wp: power(&fight.winner_powers, seed >> 32),
        lp: power(&fight.loser_powers, seed >> 40),
        place,
        scene,
    };
    let mut story = String::with_capacity(768);
    for (template, separator) in [
        (pick(&SETTINGS, 0), " "),
        (pick(&MEETINGS, 6), " "),
        (pick(&CLASHES, 12), " "),
        (levels, " "),
        (pick(&ENDINGS, 18), ""),
    ] {
        words.fill(template, &mut story);
        story.push_str(separator);
    }
    // A setting without a description leaves a double or trailing space behind.
    let mut tidy = String::with_capacity(story.len());
    for part in story.split_whitespace() {
        if !tidy.is_empty() {
            tidy.push(' ');
        }
        tidy.push_str(part);
    }
    tidy
}

/// The words a template may name.
struct Words<'a> {
    w: &'a str,
    l: &'a str,
    wt: &'a str,
    lt: &'a str,
    wteam: &'a str,
    lteam: &'a str,
    wl: i64,
    ll: i64,
    d: u64,
    wp: &'a str,
    lp: &'a str,
    place: &'a str,
    scene: &'a str,
}

impl Words<'_> {
    /// Appends `template` with every `{name}` replaced; the templates are ours, so an
    /// unknown name is left as written.
    fn fill(&self, template: &str, out: &mut String) {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let name = &rest[open + 1..open + close];
            let _ = match name {
                "w" => write!(out, "{}", self.w),
                "l" => write!(out, "{}", self.l),
                "wt" => write!(out, "{}", self.wt),
                "lt" => write!(out, "{}", self.lt),
                "wteam" => write!(out, "{}", self.wteam),
                "lteam" => write!(out, "{}", self.lteam),
                "wl" => write!(out, "{}", self.wl),
                "ll" => write!(out, "{}", self.ll),
                "d" => write!(out, "{}", self.d),
                "wp" => write!(out, "{}", self.wp),
                "lp" => write!(out, "{}", self.lp),
                "place" => write!(out, "{}", self.place),
                "scene" => write!(out, "{}", self.scene),
                other => write!(out, "{{{other}}}"),
            };
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
    }
}

/// FNV-1a over every field, with a separator between fields so that moving text from
/// one field to the next changes the seed.
fn seed(fight: &FightToNarrate) -> u64 {
    let location = fight.location.as_ref();
    let texts = [
        fight.winner_name.as_str(),
        fight.winner_team.as_str(),
        fight.winner_powers.as_str(),
        fight.loser_name.as_str(),
        fight.loser_team.as_str(),
        fight.loser_powers.as_str(),
        location.and_then(|l| l.name.as_deref()).unwrap_or(""),
        location
            .and_then(|l| l.description.as_deref())
            .unwrap_or(""),
    ];
    let levels = [fight.winner_level, fight.loser_level].map(|level| level.unwrap_or(0));
    let bytes = texts
        .iter()
        .flat_map(|text| text.bytes().chain([0xff]))
        .chain(levels.iter().flat_map(|level| level.to_le_bytes()));
    let hash = bytes.fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // Spread the low bits, which the first choices read, over the whole hash.
    hash ^ (hash >> 29)
}

/// One of the comma-separated powers, chosen by `seed`, cut to [`MAX_POWER`].
fn power(powers: &str, seed: u64) -> &str {
    let listed: Vec<&str> = powers
        .split(',')
        .map(str::trim)
        .filter(|power| !power.is_empty())
        .collect();
    if listed.is_empty() {
        return "sheer stubbornness";
    }
    let at = usize::try_from(seed % listed.len() as u64).unwrap_or(0);
    clip(listed[at], MAX_POWER)
}

/// What one member of `team` is called: a hero of the heroes, a villain of the villains.
fn member(team: &str) -> &str {
    match team {
        "heroes" => "hero",
        "villains" => "villain",
        other => clip(other, MAX_NAME),
    }
}

/// The first sentence of `text`, at most [`MAX_DESCRIPTION`] characters.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(at, c)| c == '.' && text[at + 1..].starts_with(char::is_whitespace))
        .map_or(text.len(), |(at, _)| at + 1);
    clip(&text[..end], MAX_DESCRIPTION)
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NarrationLocation;

    fn fight(winner: &str, loser: &str) -> FightToNarrate {
        FightToNarrate {
            winner_name: winner.to_owned(),
            winner_level: Some(42),
            winner_powers: "Flight, Super strength, Heat vision".to_owned(),
            winner_team: "heroes".to_owned(),
            loser_name: loser.to_owned(),
            loser_level: Some(7),
            loser_powers: "Mind control".to_owned(),
            loser_team: "villains".to_owned(),
            location: Some(NarrationLocation {
                name: Some("Port Halcyon".to_owned()),
                description: Some("A harbour city of fog. It never sleeps.".to_owned()),
            }),
        }
    }

    #[test]
    fn a_story_names_both_fighters_the_winner_and_the_place() {
        let story = narrate(&fight("Captain Meridian", "Night Wolf"));
        for word in ["Captain Meridian", "Night Wolf"] {
            assert!(story.contains(word), "{story}");
        }
        assert!(
            story.contains("Port Halcyon") || story.contains("harbour city"),
            "{story}"
        );
        assert!(!story.contains('{') && !story.contains("  "), "{story}");
        assert!(story.ends_with('.'), "{story}");
        let sentences = story.matches(". ").count() + 1;
        assert!((4..=8).contains(&sentences), "{story}");
    }

    #[test]
    fn the_same_fight_tells_the_same_story_and_others_vary() {
        let one = fight("Captain Meridian", "Night Wolf");
        assert_eq!(narrate(&one), narrate(&one));
        let stories: std::collections::HashSet<String> = (0..40)
            .map(|n| narrate(&fight(&format!("Hero {n}"), "Night Wolf")))
            .map(|story| story.split("Hero").next().unwrap_or_default().to_owned())
            .collect();
        assert!(stories.len() > 2, "{stories:?}");
    }

    #[test]
    fn what_a_client_sends_is_cut_to_size() {
        let mut long = fight(&"N".repeat(10_000), &"M".repeat(10_000));
        long.winner_powers = "P".repeat(10_000);
        long.loser_powers = ",,,".to_owned();
        long.location = None;
        let story = narrate(&long);
        assert!(story.len() < 1_024, "{}", story.len());
        assert!(story.contains(&"N".repeat(MAX_NAME)));
        assert!(!story.contains(&"N".repeat(MAX_NAME + 1)));
    }

    #[test]
    fn levels_say_who_was_expected_to_win() {
        let mut even = fight("A", "B");
        even.loser_level = Some(42);
        let story = narrate(&even);
        assert!(EVEN.iter().any(|line| story.contains(line)), "{story}");
        let mut underdog = fight("A", "B");
        underdog.winner_level = Some(1);
        underdog.loser_level = Some(i64::MAX);
        assert!(narrate(&underdog).contains(&(i64::MAX - 1).to_string()));
    }

    #[test]
    fn first_sentences_and_clips_keep_whole_characters() {
        assert_eq!(first_sentence("Foggy. Cold."), "Foggy.");
        assert_eq!(first_sentence("v1.2 city"), "v1.2 city");
        assert_eq!(clip("été", 2), "ét");
        assert_eq!(power(" a , b ", 1), "b");
    }
}
