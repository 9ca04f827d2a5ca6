#!/bin/sh
# First start (empty /var/lib/mysql): install the system tables, then, on a server without
# networking, set the root password (root@localhost and root@%), create MARIADB_DATABASE
# and MARIADB_USER with all rights on it, a healthcheck user for healthcheck.sh, and run
# /docker-entrypoint-initdb.d/*.sql (into MARIADB_DATABASE) and *.sh (sourced). Then exec
# the command (mariadbd). Each MARIADB_* variable may instead name a file in
# <VAR>_FILE (swarm secrets), as in the real image.
set -eu

# file_env VAR: VAR from the file named by VAR_FILE when VAR is unset; both is an error.
file_env() {
	eval "value=\${$1:-} file=\${$1_FILE:-}"
	if [ -n "$value" ] && [ -n "$file" ]; then
		echo "mariadb stand-in: both $1 and $1_FILE are set" >&2
		exit 1
	fi
	if [ -n "$file" ]; then
		value=$(cat "$file") || exit 1
		export "$1=$value"
	fi
	unset "$1_FILE"
}
for var in MARIADB_ROOT_PASSWORD MARIADB_DATABASE MARIADB_USER MARIADB_PASSWORD; do file_env "$var"; done

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

if [ "${1:-}" = mariadbd ] && [ ! -d "$DATADIR/mysql" ]; then
	if [ -z "${MARIADB_ROOT_PASSWORD:-}" ]; then
		echo "mariadb stand-in: MARIADB_ROOT_PASSWORD is not set" >&2
		exit 1
	fi
	mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
		--skip-test-db >/dev/null
	mariadbd --skip-networking --socket="$SOCKET" &
	pid=$!
	i=0
	until mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 60 ]; then
			echo "mariadb stand-in: the init server did not start" >&2
			exit 1
		fi
		sleep 0.5
	done

	health_password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$MARIADB_ROOT_PASSWORD';"
		echo "CREATE USER 'root'@'%' IDENTIFIED BY '$MARIADB_ROOT_PASSWORD';"
		echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
		for host in 127.0.0.1 ::1 localhost; do
			echo "CREATE USER 'healthcheck'@'$host' IDENTIFIED BY '$health_password';"
			echo "GRANT USAGE ON *.* TO 'healthcheck'@'$host';"
		done
		if [ -n "${MARIADB_DATABASE:-}" ]; then
			echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
		fi
		if [ -n "${MARIADB_USER:-}" ]; then
			echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '${MARIADB_PASSWORD:-}';"
			if [ -n "${MARIADB_DATABASE:-}" ]; then
				echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';"
			fi
		fi
	} | mariadb --socket="$SOCKET" -uroot
	printf '[client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\n' \
		"$SOCKET" "$health_password" >"$DATADIR/.my-healthcheck.cnf"
	chmod 600 "$DATADIR/.my-healthcheck.cnf"

	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh) echo "mariadb stand-in: running $f"; . "$f" ;;
		*.sql)
			echo "mariadb stand-in: running $f"
			mariadb --socket="$SOCKET" -uroot -p"$MARIADB_ROOT_PASSWORD" ${MARIADB_DATABASE:+"$MARIADB_DATABASE"} <"$f"
			;;
		*) [ -e "$f" ] && echo "mariadb stand-in: ignoring $f" ;;
		esac
	done
	mariadb-admin --socket="$SOCKET" -uroot -p"$MARIADB_ROOT_PASSWORD" shutdown
	wait "$pid" || true
	echo "mariadb stand-in: init done"
fi

exec "$@"
