#!/usr/bin/env python3
"""Stores the three seed fights of fights.json, and their statistics counters
(fight-stats.json, as the fights service keeps them), when the fights collection holds
none.

    database/fights-db/load_fights.py [MONGODB_URL [DATABASE]]
        (mongodb://127.0.0.1:27017, fights)

A new system lists three fights, as the original does, so that listings and statistics
are not empty on first start. The fights have fixed ids, so two loaders racing can store
them once only; a collection that already holds any fight is left as it is. Used by
`database/setup.sh mongodb` and by the mongo test stand-in's first start; the real mongo
image does the same from init.js.
"""

import sys
from pathlib import Path

from bson import json_util
from pymongo import MongoClient
from pymongo.errors import BulkWriteError

HERE = Path(__file__).resolve().parent


def insert(collection, name):
    """Inserts the documents of file `name`; ones a racing loader stored first (same ids,
    same documents) are left as they are. Returns how many this call stored."""
    documents = json_util.loads((HERE / name).read_text(encoding="utf-8"))
    try:
        return len(collection.insert_many(documents, ordered=False).inserted_ids)
    except BulkWriteError as error:
        return error.details.get("nInserted", 0)


def load(database):
    """Inserts the seed fights and their counters into `database` if it holds no fight;
    returns how many fights it stored."""
    if database["Fights"].find_one({}, {"_id": 1}) is not None:
        return 0
    stored = insert(database["Fights"], "fights.json")
    insert(database["FightStats"], "fight-stats.json")
    return stored


def main(argv):
    url = argv[0] if argv else "mongodb://127.0.0.1:27017"
    name = argv[1] if len(argv) > 1 else "fights"
    client = MongoClient(url, serverSelectionTimeoutMS=10_000)
    stored = load(client[name])
    print(f"fights: {stored} seed fights stored in {name}.Fights" if stored else
          f"fights: {name}.Fights already holds fights, seed fights not stored")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
