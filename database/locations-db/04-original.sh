# First start of the locations-db container (sourced by the entrypoint, so no exit): when
# compose.yml mounts the original system's database/ folder at /original (ORIGINAL_DATA),
# its locations replace the seed ones (database/original/README.md).
for original in /original/locations-db/init/*.sql; do
	if [ -f "$original" ]; then
		. /import/mariadb.sh
		prepare_original_locations "$original" mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" &&
			apply_original_locations "$MARIADB_DATABASE" mariadb -uroot -p"$MARIADB_ROOT_PASSWORD"
	fi
done
