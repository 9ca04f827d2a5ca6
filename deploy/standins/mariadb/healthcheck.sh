#!/bin/sh
# Stand-in for the real image's healthcheck.sh, for the two tests compose.yml uses:
#   --connect             a TCP connection to 127.0.0.1:3306 succeeds
#   --innodb_initialized  InnoDB is available
# It logs in as the healthcheck user the entrypoint created; any other option is an error.
set -eu
cnf=/var/lib/mysql/.my-healthcheck.cnf
[ -r "$cnf" ] || exit 1
query() {
	mariadb --defaults-extra-file="$cnf" --protocol=tcp -h 127.0.0.1 -N -B -e "$1"
}
for arg in "$@"; do
	case $arg in
	--connect) query 'SELECT 1' >/dev/null ;;
	--innodb_initialized)
		[ "$(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ]
		;;
	*)
		echo "healthcheck.sh (stand-in): unsupported option $arg" >&2
		exit 2
		;;
	esac
done
