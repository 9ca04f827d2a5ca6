#!/usr/bin/env python3
"""Rebuilds the statistics counters (FightStats) from the fights stored in Fights.

    database/fights-db/rebuild_stats.py [--if-missing] [MONGODB_URL [DATABASE]]
        (mongodb://127.0.0.1:27017, fights; --if-missing: only when the counters hold
        nothing and the collection holds fights)

The fights service keeps the counters as it stores fights; fights stored before the
counters existed, or written around the service, are not in them. This counts every
stored fight again, one winner at a time, and replaces the counters with the result. Run
it while no fight is being stored (stop fights first): fights stored meanwhile could be
counted twice or not at all. `database/setup.sh mongodb` runs it with --if-missing before the
services start.
"""

import sys

from pymongo import MongoClient, ReplaceOne

TOTALS = "teams"


def rebuild(database):
    """Replaces `database`.FightStats with the counts of `database`.Fights; returns the
    number of fights counted."""
    wins, totals = {}, {"heroes": 0, "villains": 0}
    for fight in database["Fights"].find({}, {"winnerName": 1, "winnerTeam": 1, "_id": 0}).batch_size(1_000):
        name, team = fight.get("winnerName"), fight.get("winnerTeam")
        if not isinstance(name, str) or team not in totals:
            continue
        wins[(team, name)] = wins.get((team, name), 0) + 1
        totals[team] += 1
    counters = database["FightStats"]
    counters.delete_many({})
    documents = [{"_id": f"{team}:{name}", "name": name, "team": team, "wins": n, "rank": -n}
                 for (team, name), n in wins.items()]
    documents.append({"_id": TOTALS, **totals})
    writes = [ReplaceOne({"_id": document["_id"]}, document, upsert=True) for document in documents]
    for start in range(0, len(writes), 1_000):
        counters.bulk_write(writes[start:start + 1_000], ordered=False)
    return totals["heroes"] + totals["villains"]


def main(argv):
    if_missing = "--if-missing" in argv
    argv = [arg for arg in argv if arg != "--if-missing"]
    url = argv[0] if argv else "mongodb://127.0.0.1:27017"
    name = argv[1] if len(argv) > 1 else "fights"
    database = MongoClient(url, serverSelectionTimeoutMS=10_000)[name]
    if if_missing and (database["FightStats"].find_one({}, {"_id": 1}) is not None
                       or database["Fights"].find_one({}, {"_id": 1}) is None):
        return 0
    counted = rebuild(database)
    print(f"fights: statistics counters rebuilt from {counted} stored fights in {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
