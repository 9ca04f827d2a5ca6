#!/usr/bin/env bash
# Checks `database/setup.sh original DIR` end to end on throwaway databases (part of
# `make test`): the files of fixture/ (rows of our own, written in the statements and
# layout of the original system's SQL files) replace the seed rows; loading them twice
# gives the same rows; a file that fails on its last line, after all its rows, fails
# naming the file and the line and leaves the rows as they were; and a fight runs on the loaded rows, through the
# four release binaries started on free ports.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SETUP=$ROOT/database/setup.sh
CHECK=original_check_$$
export HEROES_DATABASE=heroes_$CHECK VILLAINS_DATABASE=villains_$CHECK LOCATIONS_DATABASE=locations_$CHECK
WORK=$(mktemp -d)
PIDS=()
failures=0

say() { printf '==> %s\n' "$*"; }
fail() {
	printf 'FAIL %s\n' "$*"
	failures=$((failures + 1))
}
pass() { printf 'ok   %s\n' "$*"; }

pg() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"; }
maria() { mariadb -uroot "$@"; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pg -d postgres -c "DROP DATABASE IF EXISTS $HEROES_DATABASE" -c "DROP DATABASE IF EXISTS $VILLAINS_DATABASE" >/dev/null 2>&1 || true
	maria -e "DROP DATABASE IF EXISTS $LOCATIONS_DATABASE" 2>/dev/null || true
	python3 -c "import pymongo; pymongo.MongoClient('mongodb://127.0.0.1:27017').drop_database('fights_$CHECK')" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# Rows of every catalogue as one line each, to compare loads.
rows() {
	pg -d "$HEROES_DATABASE" -tAc "SELECT id, name, othername, level FROM hero ORDER BY id"
	pg -d "$VILLAINS_DATABASE" -tAc "SELECT id, name, othername, level FROM villain ORDER BY id"
	maria -NB "$LOCATIONS_DATABASE" -e "SELECT id, name, type FROM locations ORDER BY id"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$SETUP" all >/dev/null
say "throwaway databases $HEROES_DATABASE, $VILLAINS_DATABASE, $LOCATIONS_DATABASE with the seed rows"
for spec in "$HEROES_DATABASE:superman:heroes-db" "$VILLAINS_DATABASE:superbad:villains-db"; do
	IFS=: read -r db owner dir <<<"$spec"
	pg -d postgres -c "CREATE DATABASE $db OWNER $owner" >/dev/null
	cat "$ROOT/database/$dir/01-schema.sql" "$ROOT/database/$dir/02-notify.sql" "$ROOT/database/$dir/03-seed.sql" |
		PGPASSWORD=$owner psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$owner" -d "$db" >/dev/null
done
maria -e "CREATE DATABASE $LOCATIONS_DATABASE CHARACTER SET utf8mb4"
cat "$ROOT/database/locations-db/01-schema.sql" "$ROOT/database/locations-db/02-seed.sql" | maria "$LOCATIONS_DATABASE"

say "setup.sh original $HERE/fixture"
if "$SETUP" original "$HERE/fixture" >"$WORK/first.log" 2>&1; then
	counts=$(rows | wc -l)
	[[ $counts -eq 7 ]] && pass "the fixture's 3 heroes, 2 villains and 2 locations replace the seed rows" ||
		fail "expected 7 rows after loading the fixture, found $counts"
else
	fail "setup.sh original failed:"
	cat "$WORK/first.log"
fi
rows >"$WORK/first.rows"

"$SETUP" original "$HERE/fixture" >"$WORK/second.log" 2>&1 || fail "the second load failed: $(tail -n 3 "$WORK/second.log")"
rows >"$WORK/second.rows"
cmp -s "$WORK/first.rows" "$WORK/second.rows" && pass "loading twice gives the same rows" ||
	fail "a second load changed the rows: $(diff "$WORK/first.rows" "$WORK/second.rows" | head -n 5)"

for broken in villains-db/init/villains.sql locations-db/init/initialize-tables.sql; do
	rm -rf "$WORK/broken"
	cp -r "$HERE/fixture" "$WORK/broken"
	# Other heroes, and after every row of $broken a statement the server refuses: none of
	# it may land.
	sed -i 's/Tin Sparrow/Tin Finch/' "$WORK/broken/heroes-db/init/heroes.sql"
	echo "INSERT INTO no_such_table VALUES (1);" >>"$WORK/broken/$broken"
	line=$(wc -l <"$WORK/broken/$broken")
	if "$SETUP" original "$WORK/broken" >"$WORK/broken.log" 2>&1; then
		fail "a broken $broken loaded without an error"
	else
		grep -q "${broken##*/}" "$WORK/broken.log" && grep -Eq "(:$line: ERROR|at line $line)" "$WORK/broken.log" &&
			pass "a broken $broken fails naming the file and line $line" ||
			fail "the error for a broken $broken does not name the file and line $line: $(cat "$WORK/broken.log")"
	fi
	rows >"$WORK/after-broken.rows"
	cmp -s "$WORK/first.rows" "$WORK/after-broken.rows" && pass "and leaves every catalogue as it was" ||
		fail "a broken $broken changed the rows: $(diff "$WORK/first.rows" "$WORK/after-broken.rows" | head -n 5)"
done

say "a fight on the loaded rows (release binaries on free ports)"
(cd "$ROOT" && cargo build --release --quiet -p heroes -p villains -p locations -p fights)
declare -A PORT
for name in heroes villains locations fights; do PORT[$name]=$(free_port); done
start() {
	local name=$1
	shift
	env RUST_LOG=warn BIND_ADDR="127.0.0.1:${PORT[$name]}" "$@" "$ROOT/target/release/$name" >>"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
}
start heroes DATABASE_URL="postgres://superman:superman@127.0.0.1:5432/$HEROES_DATABASE"
start villains DATABASE_URL="postgres://superbad:superbad@127.0.0.1:5432/$VILLAINS_DATABASE"
start locations DATABASE_URL="mysql://locations:locations@127.0.0.1:3306/$LOCATIONS_DATABASE"
start fights MONGODB_URL=mongodb://127.0.0.1:27017 MONGODB_DATABASE="fights_$CHECK" \
	HEROES_URL="http://127.0.0.1:${PORT[heroes]}" VILLAINS_URL="http://127.0.0.1:${PORT[villains]}" \
	LOCATIONS_URL="http://127.0.0.1:${PORT[locations]}"
for name in heroes villains locations fights; do
	for _ in $(seq 300); do
		curl -fs -o /dev/null "http://127.0.0.1:${PORT[$name]}/q/health/ready" && break
		sleep 0.1
	done
done
fight=$(curl -fs "http://127.0.0.1:${PORT[fights]}/api/fights/execute_fight" || true)
if python3 - "$fight" <<'PY'; then
import json, sys
fight = json.loads(sys.argv[1] or "{}")
names = {"Tin Sparrow", "Quiet Lantern", "Harbor Titan", "Mister Hollow", "Rust Queen"}
ok = fight.get("winnerName") in names and fight.get("loserName") in names and \
    fight.get("location", {}).get("name") in {"Copperfall", "Orla Minor"}
print(("ok   " if ok else "FAIL ") + f"execute_fight: {fight.get('winnerName')} beat {fight.get('loserName')} at {fight.get('location', {}).get('name')}")
sys.exit(0 if ok else 1)
PY
	:
else
	failures=$((failures + 1))
	tail -n 5 "$WORK"/*.log
fi

if [[ $failures -eq 0 ]]; then
	echo "original data: all checks passed"
else
	echo "original data: $failures checks failed"
	exit 1
fi
