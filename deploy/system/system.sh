#!/usr/bin/env bash
# The whole system natively (no Docker): release binaries on their default ports against
# the native databases of database/setup.sh.
#
#   deploy/system/system.sh up      build, start the databases and the four services, wait until ready
#   deploy/system/system.sh down    stop the services
#   deploy/system/system.sh status  show what runs
#
# Every URL and port can be overridden from the environment: HEROES_DATABASE_URL,
# VILLAINS_DATABASE_URL, LOCATIONS_DATABASE_URL, MONGODB_URL, HEROES_PORT (8001),
# VILLAINS_PORT (8002), LOCATIONS_PORT (8003), FIGHTS_PORT (8004), RUST_LOG (warn),
# WORKER_THREADS (1), MIMALLOC_PURGE_DELAY (0), MIMALLOC_ALLOW_THP (0). State (pid and log
# files) lives in SUPERHEROES_STATE (/tmp/superheroes).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${SUPERHEROES_STATE:-/tmp/superheroes}
RUN=$STATE/run
BIN=$ROOT/target/release
SERVICES=(heroes villains locations fights)
WAIT_SECONDS=${WAIT_SECONDS:-30}

HEROES_PORT=${HEROES_PORT:-8001}
VILLAINS_PORT=${VILLAINS_PORT:-8002}
LOCATIONS_PORT=${LOCATIONS_PORT:-8003}
FIGHTS_PORT=${FIGHTS_PORT:-8004}

say() { printf '==> %s\n' "$*"; }

port_of() {
	case $1 in
	heroes) echo "$HEROES_PORT" ;;
	villains) echo "$VILLAINS_PORT" ;;
	locations) echo "$LOCATIONS_PORT" ;;
	fights) echo "$FIGHTS_PORT" ;;
	esac
}

# env_of SERVICE: the service's environment, one VAR=value a line.
env_of() {
	echo "BIND_ADDR=127.0.0.1:$(port_of "$1")"
	echo "RUST_LOG=${RUST_LOG:-warn}"
	echo "WORKER_THREADS=${WORKER_THREADS:-1}"
	# Freed memory back to the system at once and no transparent huge pages (README,
	# Memory); the Dockerfile sets the same.
	echo "MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0}"
	echo "MIMALLOC_ALLOW_THP=${MIMALLOC_ALLOW_THP:-0}"
	case $1 in
	heroes) echo "DATABASE_URL=${HEROES_DATABASE_URL:-postgres://superman:superman@127.0.0.1:5432/heroes_database}" ;;
	villains) echo "DATABASE_URL=${VILLAINS_DATABASE_URL:-postgres://superbad:superbad@127.0.0.1:5432/villains_database}" ;;
	locations)
		echo "DATABASE_URL=${LOCATIONS_DATABASE_URL:-mysql://locations:locations@127.0.0.1:3306/locations_database}"
		echo "GRPC_BIND_ADDR=127.0.0.1:${LOCATIONS_GRPC_PORT:-8089}"
		;;
	fights)
		echo "MONGODB_URL=${MONGODB_URL:-mongodb://127.0.0.1:27017}"
		echo "HEROES_URL=http://127.0.0.1:$HEROES_PORT"
		echo "VILLAINS_URL=http://127.0.0.1:$VILLAINS_PORT"
		echo "LOCATIONS_URL=http://127.0.0.1:$LOCATIONS_PORT"
		;;
	esac
}

running() {
	local pid
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null
}

ready() {
	curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$(port_of "$1")/q/health/ready"
}

start() {
	local name=$1
	if running "$name"; then
		say "$name: already running (pid $(cat "$RUN/$name.pid"))"
		return
	fi
	local -a vars
	mapfile -t vars < <(env_of "$name")
	env "${vars[@]}" "$BIN/$name" >>"$RUN/$name.log" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

wait_ready() {
	local name=$1 i
	for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
		if ready "$name"; then
			say "$name: ready on 127.0.0.1:$(port_of "$name") (pid $(cat "$RUN/$name.pid"))"
			return
		fi
		if ! running "$name"; then
			echo "system.sh: $name exited; its log ($RUN/$name.log) ends with:" >&2
			tail -n 20 "$RUN/$name.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "system.sh: $name not ready after ${WAIT_SECONDS}s; see $RUN/$name.log" >&2
	exit 1
}

up() {
	command -v curl >/dev/null || apt-get install -y curl >/dev/null
	say "building release binaries"
	(cd "$ROOT" && cargo build --release -p heroes -p villains -p locations -p fights)
	"$ROOT/database/setup.sh" all
	mkdir -p "$RUN"
	for name in heroes villains locations; do start "$name"; done
	for name in heroes villains locations; do wait_ready "$name"; done
	start fights
	wait_ready fights
}

down() {
	local name pid
	for name in "${SERVICES[@]}"; do
		pid=$(cat "$RUN/$name.pid" 2>/dev/null) || continue
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			say "$name: stopped"
		fi
		rm -f "$RUN/$name.pid"
	done
}

status() {
	local name
	for name in "${SERVICES[@]}"; do
		if running "$name"; then
			echo "$name: running (pid $(cat "$RUN/$name.pid")), $(ready "$name" && echo ready || echo not ready)"
		else
			echo "$name: stopped"
		fi
	done
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
