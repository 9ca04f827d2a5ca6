#!/usr/bin/env bash
# Native (no Docker) setup of the databases behind the services, for Debian, run as root.
#
#   database/setup.sh postgres|mariadb|mongodb|all   start (installing if absent) and provision
#   database/setup.sh mongodb-stop                   stop the MongoDB-compatible server it started
#   database/setup.sh original DIR                   replace the catalogues' rows with the original
#                                                    system's SQL files from DIR (database/original/README.md)
#
# A server is started only when nothing answers on its port; databases, users, schema and
# seed data (database/seed.py: heroes, villains, locations, three fights) are then created
# if missing. Running it again changes nothing.
#
#   PostgreSQL  postgres://superman:superman@127.0.0.1:5432/heroes_database
#               postgres://superbad:superbad@127.0.0.1:5432/villains_database
#   MariaDB     mysql://locations:locations@127.0.0.1:3306/locations_database
#   MongoDB     mongodb://127.0.0.1:27017 (nx-27017, no authentication)
#
# Environment: PGPORT (5432), PICTURES_HOST (http://localhost: where a browser reaches the
# catalogues, put in front of the seed pictures with HEROES_PORT 8001, VILLAINS_PORT 8002
# and LOCATIONS_PORT 8003 when a table is seeded), SUPERHEROES_STATE (/tmp/superheroes, MongoDB pid and log
# files), MONGODB_DATA (where nx-27017 keeps its SQLite files: /dev/shm/superheroes-mongodb
# when /dev/shm is a tmpfs, else $SUPERHEROES_STATE/mongodb/data), WAIT_SECONDS (30, how
# long to wait for a server to answer).
set -euo pipefail

DB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGPORT=${PGPORT:-5432}
MARIADB_PORT=3306
MONGODB_PORT=27017
STATE=${SUPERHEROES_STATE:-/tmp/superheroes}
MONGODB_DIR=$STATE/mongodb
MONGODB_PID=$MONGODB_DIR/nx-27017.pid
MONGODB_LOG=$MONGODB_DIR/nx-27017.log
# nx-27017 keeps each database in one SQLite file in WAL mode, and the checkpoint that
# folds the WAL back into the file every few megabytes of inserts ends in an fsync. On a
# virtual disk that fsync held single inserts for up to 227 ms (15 of 4,000 over 40 ms);
# in memory the worst was 49 ms (1 over 40 ms), and a stall of 40 ms is what makes the
# load test drop iterations at 500 it/s. So the stand-in's files live in memory where
# /dev/shm is a tmpfs: fights written there survive service restarts, not a reboot.
if [[ -z ${MONGODB_DATA:-} ]]; then
	if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
		MONGODB_DATA=/dev/shm/superheroes-mongodb
	else
		MONGODB_DATA=$MONGODB_DIR/data
	fi
fi
WAIT_SECONDS=${WAIT_SECONDS:-30}
PICTURES_HOST=${PICTURES_HOST:-http://localhost}
export DEBIAN_FRONTEND=noninteractive

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'setup.sh: error: %s\n' "$*" >&2
	exit 1
}

need_root() {
	[[ $EUID -eq 0 ]] || die "$1 needs root (run: sudo $0 ${ARGS[*]})"
}

# wait_for DESCRIPTION HINT COMMAND...: retries COMMAND once a second, up to WAIT_SECONDS.
wait_for() {
	local what=$1 hint=$2 i
	shift 2
	for ((i = 0; i < WAIT_SECONDS; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	die "$what did not answer within ${WAIT_SECONDS}s. $hint"
}

apt_install() {
	need_root "installing $*"
	say "installing $* (apt-get)"
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq "$@" >/dev/null || die "apt-get install -y $* failed"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL: heroes_database (owner superman) and villains_database (owner superbad)

PG_ADMIN=()

pg_answers() {
	command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p "$PGPORT"
}

pg_start() {
	need_root "starting PostgreSQL"
	command -v pg_ctlcluster >/dev/null && command -v pg_lsclusters >/dev/null || apt_install postgresql
	local ver
	ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
	[[ -n $ver ]] || ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
	[[ -n $ver ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
	if [[ ! -f /etc/postgresql/$ver/main/postgresql.conf ]]; then
		say "postgres: creating cluster $ver/main on port $PGPORT"
		pg_createcluster --port "$PGPORT" "$ver" main >/dev/null || die "pg_createcluster $ver main failed"
	fi
	install -d -o postgres -g postgres -m 2775 /var/run/postgresql
	if ! pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
		say "postgres: starting cluster $ver/main"
		pg_ctlcluster --skip-systemctl-redirect "$ver" main start ||
			die "pg_ctlcluster $ver main start failed, see /var/log/postgresql/postgresql-$ver-main.log"
	fi
	wait_for "PostgreSQL on 127.0.0.1:$PGPORT" \
		"Check 'port' and 'listen_addresses' in /etc/postgresql/$ver/main/postgresql.conf and /var/log/postgresql/postgresql-$ver-main.log." \
		pg_answers
}

# Superuser access: the unix socket as OS user postgres (peer or trust), else TCP as postgres.
pg_admin_connect() {
	if command -v runuser >/dev/null && [[ $EUID -eq 0 ]] &&
		runuser -u postgres -- psql -X -p "$PGPORT" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
		PG_ADMIN=(runuser -u postgres -- psql -p "$PGPORT")
	elif psql -X -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 </dev/null; then
		PG_ADMIN=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres)
	else
		die "cannot connect to PostgreSQL as superuser postgres (tried the unix socket as OS user postgres and 127.0.0.1:$PGPORT)"
	fi
}

pg_admin() {
	"${PG_ADMIN[@]}" -X -q -v ON_ERROR_STOP=1 "$@"
}

# pictures_sql TABLE DEFAULT_PORT PORT: the UPDATE that moves the seed pictures of TABLE
# from http://localhost:DEFAULT_PORT to PICTURES_HOST:PORT (nothing when they are the same).
pictures_sql() {
	local base="$PICTURES_HOST:$3" seeded="http://localhost:$2"
	[[ $base != "$seeded" ]] || return 0
	echo "UPDATE $1 SET picture = CONCAT('$base', SUBSTR(picture, ${#seeded} + 1)) WHERE picture LIKE '$seeded/%';"
}

# pg_database DATABASE OWNER TABLE FOLDER PORT SEEDED_PORT: role, database, schema, notify
# trigger, seed (its pictures moved from localhost:SEEDED_PORT to PICTURES_HOST:PORT).
pg_database() {
	local db=$1 owner=$2 table=$3 dir=$DB_DIR/$4 port=$5
	pg_admin -d postgres <<-SQL || die "creating role $owner failed"
		SET client_min_messages = warning;
		DO \$\$ BEGIN
		    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$owner') THEN
		        CREATE ROLE $owner;
		    END IF;
		END \$\$;
		ALTER ROLE $owner LOGIN CREATEDB PASSWORD '$owner';
	SQL
	local exists
	exists=$(pg_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") ||
		die "querying pg_database failed"
	if [[ -z $exists ]]; then
		pg_admin -d postgres -c "CREATE DATABASE $db OWNER $owner" || die "creating database $db failed"
	else
		pg_admin -d postgres -c "ALTER DATABASE $db OWNER TO $owner" || die "changing owner of $db failed"
	fi

	# Objects belong to the owner role, so the service can replace the notify trigger itself.
	{
		echo "SET client_min_messages = warning;"
		echo "BEGIN;"
		cat <<-SQL
			DO \$\$ BEGIN
			    IF to_regclass('public.$table') IS NOT NULL THEN
			        ALTER TABLE public.$table OWNER TO $owner;
			    END IF;
			    IF to_regclass('public.${table}_seq') IS NOT NULL THEN
			        ALTER SEQUENCE public.${table}_seq OWNER TO $owner;
			    END IF;
			    IF to_regprocedure('public.${table}_ids_notify()') IS NOT NULL THEN
			        ALTER FUNCTION public.${table}_ids_notify() OWNER TO $owner;
			    END IF;
			END \$\$;
		SQL
		echo "SET LOCAL ROLE $owner;"
		cat "$dir/01-schema.sql" "$dir/02-notify.sql"
		echo "COMMIT;"
	} | pg_admin -d "$db" >/dev/null || die "loading the schema into $db failed"

	local rows
	rows=$(pg_admin -d "$db" -tAc "SELECT count(*) FROM $table") || die "counting rows of $table in $db failed"
	if [[ $rows -eq 0 ]]; then
		{
			echo "BEGIN;"
			echo "SET LOCAL ROLE $owner;"
			cat "$dir/03-seed.sql"
			pictures_sql "$table" "$6" "$port"
			echo "COMMIT;"
		} | pg_admin -d "$db" >/dev/null || die "seeding $db failed"
	fi

	rows=$(PGPASSWORD=$owner PGCONNECT_TIMEOUT=5 psql -X -h 127.0.0.1 -p "$PGPORT" -U "$owner" -d "$db" -tAc "SELECT count(*) FROM $table" </dev/null) ||
		die "cannot log in as $owner to $db over 127.0.0.1:$PGPORT; allow md5/scram-sha-256 (or trust) for 127.0.0.1/32 in pg_hba.conf"
	say "postgres: $db ready, $rows rows in $table (postgres://$owner:$owner@127.0.0.1:$PGPORT/$db)"
}

setup_postgres() {
	if pg_answers; then
		say "postgres: already answering on 127.0.0.1:$PGPORT"
	else
		pg_start
	fi
	say "postgres: ready on 127.0.0.1:$PGPORT"
	pg_admin_connect
	pg_database heroes_database superman hero heroes-db "${HEROES_PORT:-8001}" 8001
	pg_database villains_database superbad villain villains-db "${VILLAINS_PORT:-8002}" 8002
}

# ---------------------------------------------------------------------------------------
# MariaDB: locations_database, user locations

MYSQL_ROOT=()

mariadb_client() { command -v mariadb || command -v mysql; }

mariadb_answers() {
	local admin
	admin=$(command -v mariadb-admin || command -v mysqladmin) || return 1
	# ping exits 0 whenever the server answers, even when access is denied.
	"$admin" ping -h127.0.0.1 -P"$MARIADB_PORT" --connect-timeout=2 >/dev/null 2>&1
}

mariadb_start() {
	need_root "starting MariaDB"
	local server
	server=$(command -v mariadbd || true)
	[[ -n $server ]] || server=/usr/sbin/mariadbd
	if [[ ! -x $server ]]; then
		apt_install mariadb-server
	fi
	install -d -o mysql -g mysql /run/mysqld
	local datadir
	datadir=$(my_print_defaults --mysqld 2>/dev/null | sed -n 's/^--datadir=//p' | tail -n 1 || true)
	datadir=${datadir:-/var/lib/mysql}
	if [[ ! -d $datadir/mysql ]]; then
		say "mariadb: initialising $datadir"
		mariadb-install-db --user=mysql --datadir="$datadir" >/dev/null || die "mariadb-install-db failed"
	fi
	if ! mariadb_answers; then
		say "mariadb: starting $server"
		start-stop-daemon --start --oknodo --background --exec "$server" -- --user=mysql ||
			die "start-stop-daemon could not start $server"
	fi
	wait_for "MariaDB on 127.0.0.1:$MARIADB_PORT" \
		"Check the error log (log-error in /etc/mysql) and that bind-address allows 127.0.0.1." \
		mariadb_answers
}

# Root access: the unix socket (unix_socket auth on Debian), else TCP without password.
mariadb_root_connect() {
	local client
	client=$(mariadb_client) || die "no mariadb/mysql client found"
	if "$client" -uroot -e 'SELECT 1' >/dev/null 2>&1 </dev/null; then
		MYSQL_ROOT=("$client" -uroot)
	elif "$client" -uroot -h127.0.0.1 -P"$MARIADB_PORT" -e 'SELECT 1' >/dev/null 2>&1 </dev/null; then
		MYSQL_ROOT=("$client" -uroot -h127.0.0.1 -P"$MARIADB_PORT")
	else
		die "cannot connect to MariaDB as root (tried the unix socket and 127.0.0.1:$MARIADB_PORT without password)"
	fi
}

setup_mariadb() {
	if mariadb_answers; then
		say "mariadb: already answering on 127.0.0.1:$MARIADB_PORT"
	else
		mariadb_start
	fi
	say "mariadb: ready on 127.0.0.1:$MARIADB_PORT"
	mariadb_root_connect
	local host
	{
		echo "CREATE DATABASE IF NOT EXISTS locations_database CHARACTER SET utf8mb4;"
		for host in '%' 'localhost'; do
			echo "CREATE USER IF NOT EXISTS 'locations'@'$host' IDENTIFIED BY 'locations';"
			echo "ALTER USER 'locations'@'$host' IDENTIFIED BY 'locations';"
			echo "GRANT ALL PRIVILEGES ON locations_database.* TO 'locations'@'$host';"
			# Lets integration tests create databases of their own, e.g. locations_test_1234.
			echo "GRANT ALL PRIVILEGES ON \`locations\\_%\`.* TO 'locations'@'$host';"
		done
	} | "${MYSQL_ROOT[@]}" || die "creating locations_database and user locations failed"
	"${MYSQL_ROOT[@]}" locations_database <"$DB_DIR/locations-db/01-schema.sql" ||
		die "loading the schema into locations_database failed"
	local rows
	rows=$("${MYSQL_ROOT[@]}" -NB locations_database -e 'SELECT count(*) FROM locations' </dev/null) ||
		die "counting rows of locations failed"
	if [[ $rows -eq 0 ]]; then
		{ cat "$DB_DIR/locations-db/02-seed.sql"; pictures_sql locations 8003 "${LOCATIONS_PORT:-8003}"; } |
			"${MYSQL_ROOT[@]}" locations_database || die "seeding locations_database failed"
	fi
	rows=$(MYSQL_PWD=locations "$(mariadb_client)" -ulocations -h127.0.0.1 -P"$MARIADB_PORT" -NB locations_database \
		-e 'SELECT count(*) FROM locations' </dev/null) ||
		die "cannot log in as locations to locations_database over 127.0.0.1:$MARIADB_PORT"
	say "mariadb: locations_database ready, $rows rows in locations (mysql://locations:locations@127.0.0.1:$MARIADB_PORT/locations_database)"
}

# ---------------------------------------------------------------------------------------
# MongoDB: nx-27017, a MongoDB wire-protocol server, as a daemon; the fights service
# creates its collection itself.

MONGODB_PING="
import socket, sys
try:
    from pymongo import MongoClient
except ImportError:
    socket.create_connection(('127.0.0.1', $MONGODB_PORT), 1).close()
    sys.exit(0)
MongoClient('mongodb://127.0.0.1:$MONGODB_PORT', serverSelectionTimeoutMS=1000).admin.command('ping')
"

mongodb_answers() {
	command -v python3 >/dev/null && python3 -c "$MONGODB_PING" >/dev/null 2>&1
}

nx_command() {
	local scripts
	if command -v nx-27017 2>/dev/null; then
		return 0
	fi
	scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null) || return 1
	[[ -x $scripts/nx-27017 ]] && echo "$scripts/nx-27017"
}

mongodb_start() {
	command -v python3 >/dev/null || apt_install python3
	local nx
	if ! nx=$(nx_command); then
		python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
		say "mongodb: installing nx-27017 (pip)"
		python3 -m pip install -q nx-27017 2>/dev/null ||
			python3 -m pip install -q --break-system-packages nx-27017 ||
			die "python3 -m pip install nx-27017 failed"
		nx=$(nx_command) || die "nx-27017 was installed but its command is not on PATH"
	fi
	mkdir -p "$MONGODB_DIR" "$MONGODB_DATA"
	say "mongodb: starting nx-27017 (data in $MONGODB_DATA, log in $MONGODB_LOG)"
	"$nx" -d --data-dir "$MONGODB_DATA" --host 127.0.0.1 -p "$MONGODB_PORT" \
		--pid-file "$MONGODB_PID" --log-file "$MONGODB_LOG" </dev/null >>"$MONGODB_LOG" 2>&1 ||
		die "nx-27017 did not start, see $MONGODB_LOG"
	wait_for "nx-27017 on 127.0.0.1:$MONGODB_PORT" "See $MONGODB_LOG." mongodb_answers
}

setup_mongodb() {
	if mongodb_answers; then
		say "mongodb: already answering on 127.0.0.1:$MONGODB_PORT"
	else
		mongodb_start
	fi
	python3 -c 'import pymongo' 2>/dev/null ||
		python3 -m pip install -q pymongo 2>/dev/null ||
		python3 -m pip install -q --break-system-packages pymongo ||
		die "python3 -m pip install pymongo failed"
	python3 "$DB_DIR/fights-db/load_fights.py" "mongodb://127.0.0.1:$MONGODB_PORT" fights | sed 's/^/==> mongodb: /' ||
		die "storing the seed fights failed"
	# Fights stored before the statistics counters existed are counted once.
	python3 "$DB_DIR/fights-db/rebuild_stats.py" --if-missing "mongodb://127.0.0.1:$MONGODB_PORT" fights |
		sed 's/^/==> mongodb: /' || die "rebuilding the statistics counters failed"
	say "mongodb: ready on 127.0.0.1:$MONGODB_PORT (mongodb://127.0.0.1:$MONGODB_PORT)"
}

# ---------------------------------------------------------------------------------------
# The original system's data (database/original/README.md): DIR in the original
# repository's database/ layout, each catalogue replaced in one transaction.

# original_file DIR SUBDIR: the one SQL file of DIR/SUBDIR/init.
original_file() {
	local files=("$1/$2"/init/*.sql)
	[[ -f ${files[0]} ]] || die "no $2/init/*.sql under $1 (the original repository's database/ folder)"
	[[ ${#files[@]} -eq 1 ]] || die "more than one SQL file in $1/$2/init: ${files[*]}"
	echo "${files[0]}"
}

load_original() {
	local dir=$1 heroes villains locations
	[[ -d $dir ]] || die "$dir is not a folder"
	heroes=$(original_file "$dir" heroes-db)
	villains=$(original_file "$dir" villains-db)
	locations=$(original_file "$dir" locations-db)
	setup_postgres
	setup_mariadb
	# psql runs as the postgres user, who may not read DIR: it reads copies, named as the
	# originals. Every file is tried (rolled back) before any catalogue is replaced, so a
	# broken one leaves all three as they were.
	local spec db table file pass mode
	ORIGINAL_COPY=$(mktemp -d)
	trap 'rm -rf "$ORIGINAL_COPY"' EXIT
	chmod 755 "$ORIGINAL_COPY"
	# shellcheck source=original/mariadb.sh
	. "$DB_DIR/original/mariadb.sh"
	for pass in check load; do
		for spec in "${HEROES_DATABASE:-heroes_database}:hero:$heroes" "${VILLAINS_DATABASE:-villains_database}:villain:$villains"; do
			IFS=: read -r db table file <<<"$spec"
			mode=(-v check_only=1)
			[[ $pass == check ]] || { mode=(); say "original data: $file into $db.$table"; }
			mkdir -p "$ORIGINAL_COPY/$table"
			install -m 644 "$file" "$ORIGINAL_COPY/$table/"
			pg_admin -d "$db" -v file="$ORIGINAL_COPY/$table/${file##*/}" -v source="$file" -v table="$table" \
				"${mode[@]}" -f "$DB_DIR/original/postgres.psql" ||
				die "loading $file into $db failed (psql named the line above); every catalogue is unchanged"
		done
		if [[ $pass == check ]]; then
			prepare_original_locations "$locations" "${MYSQL_ROOT[@]}" ||
				die "loading $locations failed; every catalogue is unchanged"
		fi
	done
	say "original data: $locations into ${LOCATIONS_DATABASE:-locations_database}.locations"
	apply_original_locations "${LOCATIONS_DATABASE:-locations_database}" "${MYSQL_ROOT[@]}" ||
		die "copying the rows of $locations failed"
}

# Stops only the server recorded in our pid file, and only if that pid still runs nx-27017.
stop_mongodb() {
	local pid=""
	[[ -f $MONGODB_PID ]] && pid=$(<"$MONGODB_PID")
	if [[ ! $pid =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null ||
		! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'nx[-_]27017'; then
		rm -f "$MONGODB_PID"
		say "mongodb: not running from $MONGODB_PID, nothing to stop"
		return 0
	fi
	kill -TERM "$pid"
	local i
	for ((i = 0; i < 10 * WAIT_SECONDS; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$MONGODB_PID"
	say "mongodb: stopped nx-27017 (pid $pid)"
}

# ---------------------------------------------------------------------------------------

usage() {
	echo "usage: $0 postgres|mariadb|mongodb|mongodb-stop|all, or $0 original DIR" >&2
	exit 2
}

ARGS=("$@")
if [[ ${1:-} == original ]]; then
	[[ $# -eq 2 ]] || usage
	load_original "$(cd "$2" 2>/dev/null && pwd || echo "$2")"
	exit 0
fi
[[ $# -eq 1 ]] || usage
case $1 in
postgres) setup_postgres ;;
mariadb) setup_mariadb ;;
mongodb) setup_mongodb ;;
mongodb-stop) stop_mongodb ;;
all)
	setup_postgres
	setup_mariadb
	setup_mongodb
	;;
*) usage ;;
esac
