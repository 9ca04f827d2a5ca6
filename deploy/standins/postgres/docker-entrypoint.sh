#!/bin/sh
# First start (empty PGDATA): initdb with POSTGRES_USER as superuser and POSTGRES_PASSWORD,
# create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sql (psql) and *.sh (sourced) on a
# server that listens on its socket only, stop it. Then exec the command (postgres).
# Each of the three variables may instead name a file in <VAR>_FILE (swarm secrets), as
# in the real image.
set -eu

# file_env VAR: VAR from the file named by VAR_FILE when VAR is unset; both is an error.
file_env() {
	eval "value=\${$1:-} file=\${$1_FILE:-}"
	if [ -n "$value" ] && [ -n "$file" ]; then
		echo "postgres stand-in: both $1 and $1_FILE are set" >&2
		exit 1
	fi
	if [ -n "$file" ]; then
		value=$(cat "$file") || exit 1
		export "$1=$value"
	fi
	unset "$1_FILE"
}
for var in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB; do file_env "$var"; done

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres stand-in: POSTGRES_PASSWORD is not set" >&2
		exit 1
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
		--auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

	pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
	psql() { command psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" "$@"; }
	if [ "$POSTGRES_DB" != postgres ]; then
		psql --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh) echo "postgres stand-in: running $f"; . "$f" ;;
		*.sql) echo "postgres stand-in: running $f"; psql --dbname "$POSTGRES_DB" -f "$f" ;;
		*) [ -e "$f" ] && echo "postgres stand-in: ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	echo "postgres stand-in: init done"
fi

exec "$@"
