#!/usr/bin/env python3
"""The seed data of every database, written from a fixed random seed, and its check.

    database/seed.py write    rewrite heroes-db/03-seed.sql, villains-db/03-seed.sql,
                              locations-db/02-seed.sql, fights-db/fights.json with
                              its statistics counters fights-db/fight-stats.json, and
                              the benchmarks' input bench/fixtures/fight.json
    database/seed.py check    fail unless those files are what `write` makes and their
                              field lengths, counts and levels match SHAPE within 10 %

The system exists to compare stacks on the same work, so the rows have the shape of the
original system's sample (SHAPE: 100 heroes, 100 villains, 31 locations, long
comma-separated power lists, pictures of the original's URL length, levels over nine
orders of magnitude); the words are our own. The same seed always gives the same bytes.

Pictures point at the portraits the catalogue services draw themselves
(`GET /api/heroes/pictures/{file}`), on the addresses a browser reaches the native and
the compose system at; `setup.sh` and the compose init scripts can put another base in
front (PICTURES_URL), so the stored URL stays servable wherever the system runs.
"""

import json
import random
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261204

# The original's sample, characters per field: (mean, median, p90, max). Names and other
# names count an empty other name as 0 characters.
SHAPE = {
    "hero": {
        "count": 100,
        "powers": (597, 430, 1301, 3766),
        "picture": (121, 122, 126, 134),
        "name": (11, None, None, None),
        "otherName": (8, None, None, None),
        "empty otherName": 37,
        "level": {"median": 668, "p10": 27, "p90": 1_000_000, "max": 643_000_000},
    },
    "villain": {
        "count": 100,
        "powers": (806, 494, 1775, 4495),
        "picture": (121, 120, 127, 154),
        "name": (13, None, None, None),
        "otherName": (6, None, None, None),
        "empty otherName": 46,
        "level": {"median": 1_000, "p10": 68, "p90": 11_000_000, "max": 618_000_000},
    },
    "location": {
        "count": 31,
        "types": {"CITY": 10, "PLANET": 7, "PLACE": 5, "ISLAND": 4, "COUNTRY": 4, "MOON": 1},
        "description": (242, 244, 319, 416),
        "picture": (109, 108, 112, 120),
    },
}
TOLERANCE = 0.10

PICTURE_BASES = {
    "hero": "http://localhost:8001/api/heroes/pictures/",
    "villain": "http://localhost:8002/api/villains/pictures/",
    "location": "http://localhost:8003/api/locations/pictures/",
}

# ------------------------------------------------------------------------ vocabulary

ELEMENTS = [
    "Flame", "Frost", "Storm", "Shadow", "Light", "Sound", "Gravity", "Time", "Metal",
    "Stone", "Water", "Wind", "Mind", "Dream", "Plant", "Animal", "Blood", "Star", "Void",
    "Spirit", "Crystal", "Lightning", "Magnet", "Plasma", "Poison", "Sand", "Ice", "Heat",
    "Ink", "Glass", "Smoke", "Moon", "Sun", "Rust", "Bone", "Echo", "Fungus", "Gear",
]
ARTS = [
    "Control", "Resistance", "Sense", "Manipulation", "Projection", "Absorption", "Armor",
    "Blast", "Walking", "Shaping", "Immunity", "Mimicry", "Healing", "Sight", "Speech",
    "Weaving", "Binding", "Summoning", "Reading", "Cloaking",
]
SINGLE_POWERS = [
    "Flight", "Super Strength", "Super Speed", "Agility", "Stealth", "Regeneration",
    "Teleportation", "Invisibility", "Telepathy", "Marksmanship", "Acrobatics",
    "Wall Climbing", "Shape Shifting", "Size Shifting", "Duplication", "Precognition",
    "Night Vision", "Enhanced Hearing", "Enhanced Smell", "Keen Intellect", "Swordplay",
    "Lock Picking", "Disguise", "Gadgetry", "Leadership", "Tactics", "Endurance",
    "Longevity", "Luck", "Phasing", "Elasticity", "Levitation", "Portal Opening",
    "Force Fields", "Danger Sense", "Animal Speech", "Hand-to-Hand Combat", "Archery",
    "Piloting", "Hacking", "Healing Touch", "Weather Calling", "Time Travel",
]
NAME_FIRST = [
    "Night", "Iron", "Silver", "Crimson", "Star", "Storm", "Shadow", "Golden", "Black",
    "Blue", "Red", "Quick", "Grey", "Wild", "Bright", "Dark", "Frost", "Ember", "Thunder",
    "Stone", "Glass", "Copper", "Jade", "Ivory", "Velvet", "Nova", "Onyx", "Amber",
]
NAME_SECOND = [
    "Falcon", "Comet", "Wolf", "Lynx", "Hawk", "Viper", "Raven", "Fox", "Bear", "Moth",
    "Spark", "Tide", "Gale", "Fang", "Blade", "Arrow", "Shield", "Warden", "Rider",
    "Sentry", "Wraith", "Golem", "Siren", "Jackal", "Heron", "Otter", "Mantis", "Cobra",
]
HERO_TITLES = ["Captain", "Doctor", "Lady", "Major", "Sister", "Professor", "Agent", "Kid"]
VILLAIN_TITLES = ["Baron", "Count", "Mister", "Madame", "Lord", "General", "Queen", "Duke"]
VILLAIN_SUFFIXES = ["the Cruel", "the Hollow", "of the Deep", "the Unbound", "the Grim"]
GIVEN = [
    "Dana", "Iris", "Tobias", "Mara", "Wendell", "Aurelia", "Declan", "Priya", "Jonah",
    "Yuki", "Felix", "Amara", "Soren", "Lucia", "Omar", "Greta", "Malik", "Ines", "Theo",
    "Nadia", "Ravi", "Elsa", "Hugo", "Zara", "Milo", "Keiko", "Bruno", "Leila", "Anton",
]
FAMILY = [
    "Okafor", "Vale", "Fenn", "Quill", "Pratt", "Stone", "Malley", "Raman", "Castell",
    "Tanaka", "Moreau", "Nwosu", "Lindqvist", "Ferreira", "Haddad", "Brandt", "Okoye",
    "Delacroix", "Kowalski", "Santos", "Mbeki", "Ivanova", "Whitlock", "Arden", "Voss",
]
PLACE_FIRST = [
    "Port", "New", "Old", "North", "South", "Upper", "Lower", "East", "West", "Fort",
    "Saint", "High", "Low", "Great", "Little",
]
PLACE_SECOND = [
    "Halcyon", "Brassmoor", "Calder", "Vellmouth", "Ashgrove", "Marrow", "Kestrel",
    "Lumen", "Tessaly", "Orrin", "Quarry", "Wrenfield", "Corvid", "Harrow", "Sable",
    "Tamber", "Ulric", "Verity", "Willow", "Yarrow", "Zephyr", "Bramble", "Cinder",
    "Dunmore", "Elder", "Fallow", "Gossamer", "Hollin", "Ingle", "Juniper", "Kell",
]
PLACE_KIND = {
    "CITY": "city", "PLANET": "planet", "PLACE": "place", "ISLAND": "island",
    "COUNTRY": "country", "MOON": "moon",
}
SCENERY = [
    "white stone terraces climb from the harbour to the old walls",
    "foundries glow all night under copper rooftops",
    "glass towers throw the river's light back at the sky",
    "covered bridges cross a slow brown river",
    "the markets open before dawn and close long after dark",
    "the streets are lit by lanterns that never quite go out",
    "storms roll in from the sea every afternoon",
    "the wind carries the smell of salt and engine oil",
    "the mountains keep the valley in shadow until noon",
    "ancient ruins lie half buried under the newer streets",
    "the air is thin and the nights are bitterly cold",
    "a ring of dark forest hides what happens at its centre",
    "the tides rise higher than anywhere else on the coast",
    "old tunnels run beneath every quarter",
    "travellers are warned never to leave the marked roads",
    "the sky glows green for a week every autumn",
]
PEOPLE = [
    "The people here are proud, stubborn and quick to help a stranger.",
    "Few visitors stay longer than they must.",
    "Its rulers rarely agree on anything but keeping outsiders away.",
    "Every fighter who has come here has left with a story.",
    "Heroes and villains alike treat it as neutral ground, most of the time.",
    "The locals say the place remembers every battle fought on it.",
    "Nobody has ever mapped all of it.",
    "It is quieter than it looks, until it is not.",
]


def slug(text):
    out = []
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def sql_text(value):
    return "'" + value.replace("'", "''") + "'"


# ------------------------------------------------------------------------ lengths


def interpolate(n, anchors, geometric=False):
    """n sorted values through `anchors` (index, value), linear or geometric between them."""
    values = []
    for i in range(n):
        for (i0, v0), (i1, v1) in zip(anchors, anchors[1:]):
            if i <= i1:
                t = 0.0 if i1 == i0 else (i - i0) / (i1 - i0)
                values.append(v0 * (v1 / v0) ** t if geometric else v0 + (v1 - v0) * t)
                break
    return values


def ranks(n):
    """The sorted positions that `quantiles` reads: p10, p25, the median pair, p90, max."""
    return -(-n // 10) - 1, (n - 1) // 4, (n - 1) // 2, n // 2, -(-9 * n // 10) - 1, n - 1


def lengths(rng, n, shape, low):
    """n lengths whose mean, median, p90 and max are `shape`'s, in random order.

    A piecewise-linear curve over the sorted positions through `low`, the median, p90 and
    the maximum; one knot in the tail (between p90 and the maximum) and, when that is not
    enough, one at p25 are moved by bisection until the mean comes out right.
    """
    mean, median, p90, top = shape
    _, i25, m0, m1, i90, imax = ranks(n)
    itail = i90 + max(1, (imax - i90) * 3 // 4)

    def curve(knot, tail):
        anchors = [(0, low), (i25, knot), (m0, median), (m1, median), (i90, p90), (itail, tail), (imax, top)]
        return [round(v) for v in interpolate(n, anchors)]

    def solve(lo, hi, values_of):
        for _ in range(50):
            mid = (lo + hi) / 2
            if statistics.mean(values_of(mid)) < mean:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    knot = (low + median) / 2
    if statistics.mean(curve(knot, p90)) > mean:
        knot = solve(low, median, lambda k: curve(k, p90))
        values = curve(knot, p90)
    else:
        values = curve(knot, solve(p90, top, lambda t: curve(knot, t)))
    rng.shuffle(values)
    return values


def levels(rng, n, shape):
    """n levels with `shape`'s p10, median, p90 and maximum, log-spaced between them and
    rounded to two leading digits, as hand-written levels are."""
    i10, _, m0, m1, i90, imax = ranks(n)
    anchors = [(0, 1), (i10, shape["p10"]), (m0, shape["median"]), (m1, shape["median"]),
               (i90, shape["p90"]), (imax, shape["max"])]
    fixed = {i: v for i, v in anchors}
    values = []
    for i, v in enumerate(interpolate(n, anchors, geometric=True)):
        if i in fixed:
            values.append(fixed[i])
        else:
            scale = 10 ** max(0, len(str(round(v))) - 2)
            values.append(max(1, round(v) // scale * scale))
    rng.shuffle(values)
    return values


# ------------------------------------------------------------------------ rows


def power_names():
    names = list(SINGLE_POWERS)
    names += [f"{e} {a}" for e in ELEMENTS for a in ARTS]
    return names


def powers(rng, target, vocabulary):
    """Distinct power names joined by ", ", as close to `target` characters as they fit."""
    pool = rng.sample(vocabulary, len(vocabulary))
    chosen, size = [], 0
    for name in pool:
        extra = len(name) + (2 if chosen else 0)
        if size + extra > target and chosen:
            if target - size > size + extra - target:
                chosen.append(name)
            break
        chosen.append(name)
        size += extra
    return ", ".join(chosen)


def picture(rng, base, name, target):
    """A portrait URL of `target` characters: base, name slug, a number, `.svg`."""
    head = base + slug(name) + "-"
    digits = max(8, target - len(head) - len(".svg"))
    return head + str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(digits - 1)) + ".svg"


def characters(rng, kind):
    shape = SHAPE[kind]
    n = shape["count"]
    vocabulary = power_names()
    titles = HERO_TITLES if kind == "hero" else VILLAIN_TITLES
    names, seen = [], set()
    while len(names) < n:
        first, second = rng.choice(NAME_FIRST), rng.choice(NAME_SECOND)
        roll = rng.random()
        if kind == "villain" and roll < 0.12:
            name = f"{first}{second.lower()} {rng.choice(VILLAIN_SUFFIXES)}"
        elif roll < 0.45:
            name = f"{rng.choice(titles)} {second}"
        else:
            name = f"{first} {second}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    empty = set(rng.sample(range(n), shape["empty otherName"]))
    power_lengths = lengths(rng, n, shape["powers"], low=12)
    picture_lengths = lengths(rng, n, shape["picture"], low=shape["picture"][1] - 14)
    level_values = levels(rng, n, shape["level"])
    rows = []
    for i, name in enumerate(names):
        other = "" if i in empty else f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        rows.append({
            "name": name,
            "otherName": other,
            "picture": picture(rng, PICTURE_BASES[kind], name, picture_lengths[i]),
            "powers": powers(rng, power_lengths[i], vocabulary),
            "level": level_values[i],
        })
    return rows


def description(rng, name, kind, target):
    """Sentences about the place, each kept only where it fits, until about `target`
    characters."""
    text = f"{name} is a {PLACE_KIND[kind]} where {rng.choice(SCENERY)}."
    sentences = [f" Here {scene}." for scene in SCENERY] + [f" {line}" for line in PEOPLE]
    for sentence in rng.sample(sentences, len(sentences)):
        if len(text) >= target - 8:
            break
        if len(text) + len(sentence) <= target + 8 and sentence.lower() not in text.lower():
            text += sentence
    return text


def locations(rng):
    shape = SHAPE["location"]
    kinds = [t for t, count in shape["types"].items() for _ in range(count)]
    names, seen = [], set()
    while len(names) < shape["count"]:
        name = rng.choice(PLACE_SECOND)
        if rng.random() < 0.6:
            name = f"{rng.choice(PLACE_FIRST)} {name}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    description_lengths = lengths(rng, len(names), shape["description"], low=140)
    picture_lengths = lengths(rng, len(names), shape["picture"], low=shape["picture"][1] - 12)
    return [
        {
            "name": name,
            "description": description(rng, name, kinds[i], description_lengths[i]),
            "picture": picture(rng, PICTURE_BASES["location"], name, picture_lengths[i]),
            "type": kinds[i],
        }
        for i, name in enumerate(names)
    ]


def fights(heroes, villains, places):
    """Three stored fights between seed characters, as the fights service writes them."""
    out = []
    pairs = [(0, 1, 0, "2026-01-05T10:15:30.000Z"), (2, 3, 1, "2026-01-05T10:16:02.500Z"),
             (4, 5, 2, "2026-01-05T10:17:41.250Z")]
    for number, (h, v, l, date) in enumerate(pairs):
        hero, villain, place = heroes[h], villains[v], places[l]
        hero_wins = hero["level"] >= villain["level"]
        winner, loser = (hero, villain) if hero_wins else (villain, hero)
        out.append({
            "_id": {"$oid": f"65a0000000000000000000{number + 1:02x}"},
            "fightDate": {"$date": date},
            "winnerName": winner["name"],
            "winnerLevel": winner["level"],
            "winnerPowers": winner["powers"],
            "winnerPicture": winner["picture"],
            "winnerTeam": "heroes" if hero_wins else "villains",
            "loserName": loser["name"],
            "loserLevel": loser["level"],
            "loserPowers": loser["powers"],
            "loserPicture": loser["picture"],
            "loserTeam": "villains" if hero_wins else "heroes",
            "location": {
                "name": place["name"],
                "description": place["description"],
                "picture": place["picture"],
            },
        })
    return out


def typical(rows, field):
    """The row whose `field` is closest to the mean length of that field: what an
    average request carries."""
    mean = statistics.mean(len(row[field]) for row in rows)
    return min(rows, key=lambda row: abs(len(row[field]) - mean))


def bench_input(heroes, villains, places):
    """A POST /api/fights body of typical seed rows, ids and other names included as the
    catalogues answer them: the input of the criterion benches."""
    def row(character, number):
        out = {"id": 1 + 50 * number}
        out.update({k: v for k, v in character.items() if v != ""})
        return out

    hero, villain, place = typical(heroes, "powers"), typical(villains, "powers"), typical(places, "description")
    return {
        "hero": row(hero, heroes.index(hero)),
        "villain": row(villain, villains.index(villain)),
        "location": {"id": 1 + places.index(place), **place},
    }


def fight_stats(seeded):
    """The statistics counters of `seeded`, as the fights service keeps them in
    FightStats: one document per winner (`wins`, and `rank`, its negation) and the teams'
    totals."""
    counters, totals = {}, {"_id": "teams", "heroes": 0, "villains": 0}
    for fight in seeded:
        key = f"{fight['winnerTeam']}:{fight['winnerName']}"
        counter = counters.setdefault(key, {"_id": key, "name": fight["winnerName"],
                                            "team": fight["winnerTeam"], "wins": 0, "rank": 0})
        counter["wins"] += 1
        counter["rank"] -= 1
        totals[fight["winnerTeam"]] += 1
    return [*counters.values(), totals]


# ------------------------------------------------------------------------ files


def character_sql(table, rows):
    lines = [f"-- Seed {table}s, written by database/seed.py (do not edit by hand). Loaded once,",
             f"-- into an empty {table} table.", ""]
    for row in rows:
        lines.append(
            f"INSERT INTO {table}(id, name, otherName, picture, powers, level) VALUES "
            f"(nextval('{table}_seq'), {sql_text(row['name'])}, {sql_text(row['otherName'])}, "
            f"{sql_text(row['picture'])}, {sql_text(row['powers'])}, {row['level']});"
        )
    return "\n".join(lines) + "\n"


def location_sql(rows):
    lines = ["-- Seed locations, written by database/seed.py (do not edit by hand). Loaded once,",
             "-- into an empty locations table.", ""]
    for row in rows:
        lines.append(
            "INSERT INTO locations(name, description, picture, type) VALUES "
            f"({sql_text(row['name'])}, {sql_text(row['description'])}, "
            f"{sql_text(row['picture'])}, '{row['type']}');"
        )
    return "\n".join(lines) + "\n"


def files():
    rng = random.Random(SEED)
    heroes = characters(rng, "hero")
    villains = characters(rng, "villain")
    places = locations(rng)
    seeded = fights(heroes, villains, places)
    return {
        HERE / "heroes-db/03-seed.sql": character_sql("hero", heroes),
        HERE / "villains-db/03-seed.sql": character_sql("villain", villains),
        HERE / "locations-db/02-seed.sql": location_sql(places),
        HERE / "fights-db/fights.json": json.dumps(seeded, indent=2) + "\n",
        HERE / "fights-db/fight-stats.json": json.dumps(fight_stats(seeded), indent=2) + "\n",
        HERE.parent / "bench/fixtures/fight.json": json.dumps(bench_input(heroes, villains, places)) + "\n",
    }, {"hero": heroes, "villain": villains, "location": places}


# ------------------------------------------------------------------------ check


def parse_values(line):
    """The values of one generated INSERT line: quoted strings and integers."""
    body = line[line.index("VALUES (") + len("VALUES ("):line.rindex(");")]
    values, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "'":
            j, text = i + 1, []
            while True:
                if body[j] == "'" and body[j + 1:j + 2] == "'":
                    text.append("'")
                    j += 2
                elif body[j] == "'":
                    break
                else:
                    text.append(body[j])
                    j += 1
            values.append("".join(text))
            i = j + 1
        elif ch in ", ":
            i += 1
        else:
            j = i
            while j < len(body) and body[j] not in ",":
                j += 1
            values.append(body[i:j].strip())
            i = j
    return values


def read_rows(path, fields):
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("INSERT"):
            values = parse_values(line)
            if fields[0] == "id":
                values = values[1:]
                names = fields[1:]
            else:
                names = fields
            rows.append(dict(zip(names, values)))
    return rows


def quantiles(values):
    ordered = sorted(values)
    n = len(ordered)
    return statistics.mean(ordered), statistics.median(ordered), ordered[ranks(n)[4]], ordered[-1]


def compare(label, measured, target, problems, report):
    names = ("mean", "median", "p90", "max")
    shown = []
    for name, got, want in zip(names, measured, target):
        if want is None:
            continue
        shown.append(f"{name} {got:,.0f} (original {want:,})")
        if abs(got - want) > TOLERANCE * want:
            problems.append(f"{label}: {name} {got:,.0f} is more than 10 % from {want:,}")
    report.append(f"  {label}: " + ", ".join(shown))


def check():
    problems, report = [], []
    expected, _ = files()
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.relative_to(HERE.parent)} is not what `database/seed.py write` makes")
    for kind, path in (("hero", HERE / "heroes-db/03-seed.sql"), ("villain", HERE / "villains-db/03-seed.sql")):
        shape = SHAPE[kind]
        rows = read_rows(path, ["id", "name", "otherName", "picture", "powers", "level"])
        report.append(f"{kind}s: {len(rows)}")
        if len(rows) != shape["count"]:
            problems.append(f"{kind}s: {len(rows)} rows, the original has {shape['count']}")
        for field in ("powers", "picture", "name", "otherName"):
            compare(f"{kind} {field}", quantiles([len(r[field]) for r in rows]), shape[field], problems, report)
        empty = sum(1 for r in rows if not r["otherName"])
        report.append(f"  {kind}s without otherName: {empty} (original {shape['empty otherName']})")
        if abs(empty - shape["empty otherName"]) > TOLERANCE * shape["empty otherName"]:
            problems.append(f"{kind}s without otherName: {empty}, the original has {shape['empty otherName']}")
        levels_seen = sorted(int(r["level"]) for r in rows)
        level_shape = shape["level"]
        i10, _, _, _, i90, _ = ranks(len(levels_seen))
        got = {"median": statistics.median(levels_seen), "p10": levels_seen[i10],
               "p90": levels_seen[i90], "max": levels_seen[-1]}
        report.append(f"  {kind} level: " + ", ".join(f"{k} {v:,.0f} (original {level_shape[k]:,})" for k, v in got.items()))
        for key, want in level_shape.items():
            if abs(got[key] - want) > TOLERANCE * want:
                problems.append(f"{kind} level {key}: {got[key]:,.0f} is more than 10 % from {want:,}")
    shape = SHAPE["location"]
    rows = read_rows(HERE / "locations-db/02-seed.sql", ["name", "description", "picture", "type"])
    report.append(f"locations: {len(rows)}")
    if len(rows) != shape["count"]:
        problems.append(f"locations: {len(rows)} rows, the original has {shape['count']}")
    types = {t: sum(1 for r in rows if r["type"] == t) for t in shape["types"]}
    report.append(f"  types: {types}")
    if types != shape["types"]:
        problems.append(f"location types {types}, the original has {shape['types']}")
    for field in ("description", "picture"):
        compare(f"location {field}", quantiles([len(r[field]) for r in rows]), shape[field], problems, report)
    seeded = json.loads((HERE / "fights-db/fights.json").read_text(encoding="utf-8"))
    report.append(f"fights: {len(seeded)}")
    if len(seeded) != 3:
        problems.append(f"fights-db/fights.json holds {len(seeded)} fights, a fresh system starts with 3")
    print("\n".join(report))
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"seed check: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


def main(argv):
    if argv == ["write"]:
        written, _ = files()
        for path, text in written.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parent)}")
        return 0
    if argv == ["check"]:
        return check()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
