# First start of the heroes-db container (sourced by the entrypoint, so no exit): when
# compose.yml mounts the original system's database/ folder at /original (ORIGINAL_DATA),
# its heroes replace the seed ones (database/original/README.md).
for original in /original/heroes-db/init/*.sql; do
	if [ -f "$original" ]; then
		psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v file="$original" -v table=hero \
			-f /import/postgres.psql
	fi
done
