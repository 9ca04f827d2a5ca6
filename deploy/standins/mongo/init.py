"""First start of the mongo stand-in: what database/fights-db/init.js does that matters.

The real image runs the mounted init.js with mongosh; this one cannot run JavaScript. It
waits for the server, creates collection `Fights` with the index {fightDate: -1} named
`fightDate_desc` in MONGO_INITDB_DATABASE (default fights), stores the seed fights with the
mounted folder's load_fights.py (when database/fights-db is mounted at
/docker-entrypoint-initdb.d, as compose.yml does), then writes /data/db/.initialized,
which the stand-in mongosh requires before it reports healthy. The user init.js creates is
left out: the server has no authentication.
"""

import importlib.util
import os
import sys
import time

from pymongo import DESCENDING, MongoClient
from pymongo.errors import PyMongoError

MARKER = "/data/db/.initialized"
LOADER = "/docker-entrypoint-initdb.d/load_fights.py"


def main() -> int:
    if os.path.exists(MARKER):
        return 0
    client = MongoClient("mongodb://127.0.0.1:27017", serverSelectionTimeoutMS=1000)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.admin.command("ping")
            break
        except PyMongoError:
            if time.monotonic() > deadline:
                print("mongo stand-in: the server did not answer within 60 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
    db = client[os.environ.get("MONGO_INITDB_DATABASE") or "fights"]
    if "Fights" not in db.list_collection_names():
        db.create_collection("Fights")
    db["Fights"].create_index([("fightDate", DESCENDING)], name="fightDate_desc")
    seeded = 0
    if os.path.exists(LOADER):
        spec = importlib.util.spec_from_file_location("load_fights", LOADER)
        loader = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loader)
        seeded = loader.load(db)
    with open(MARKER, "w", encoding="utf-8") as marker:
        marker.write("initialized\n")
    print(f"mongo stand-in: init done ({db.name}.Fights, index fightDate_desc, {seeded} seed fights)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
