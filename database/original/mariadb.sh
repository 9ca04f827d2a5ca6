# Replaces every location with the rows of the original system's SQL file, for
# `database/setup.sh original` and the compose init script (sourced, POSIX sh).
#
#   prepare_original_locations FILE ROOT_CLIENT...    the file into the scratch database
#   apply_original_locations DATABASE ROOT_CLIENT...   its rows over DATABASE.locations
#
# The file runs in a scratch database `original_import`, over the local socket as a user
# that may see nothing else: the original's inserts read their next id from information_schema.TABLES by
# table name alone, which must find only the scratch table. Its rows are then copied over
# DATABASE.locations in one transaction and the scratch database and user are dropped.
# A broken file stops the prepare step at the client's "ERROR ... at line N", named with
# FILE, before DATABASE is touched; loading twice gives the same rows.
prepare_original_locations() {
	_file=$1
	shift
	_pw=original-import-$$
	"$@" -e "DROP DATABASE IF EXISTS original_import;
		CREATE DATABASE original_import CHARACTER SET utf8mb4;
		CREATE OR REPLACE USER 'original_import'@'localhost' IDENTIFIED BY '$_pw';
		GRANT ALL PRIVILEGES ON original_import.* TO 'original_import'@'localhost';" || return 1
	_client=$(command -v mariadb || command -v mysql)
	if ! MYSQL_PWD=$_pw "$_client" -uoriginal_import original_import <"$_file"; then
		echo "original data: $_file could not be loaded (the line is in the error above)" >&2
		"$@" -e "DROP DATABASE IF EXISTS original_import; DROP USER IF EXISTS 'original_import'@'localhost';"
		return 1
	fi
	echo "original data: $_file loads"
}

apply_original_locations() {
	_db=$1
	shift
	"$@" -e "START TRANSACTION;
		DELETE FROM \`$_db\`.locations;
		INSERT INTO \`$_db\`.locations (id, name, description, picture, type)
			SELECT id, name, description, picture, type FROM original_import.locations;
		COMMIT;
		DROP DATABASE original_import;
		DROP USER 'original_import'@'localhost';" || return 1
	_rows=$("$@" -NB -e "SELECT count(*) FROM \`$_db\`.locations")
	echo "original data: $_rows rows in locations"
}
