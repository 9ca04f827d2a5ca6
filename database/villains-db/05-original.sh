# First start of the villains-db container (sourced by the entrypoint, so no exit): when
# compose.yml mounts the original system's database/ folder at /original (ORIGINAL_DATA),
# its villains replace the seed ones (database/original/README.md).
for original in /original/villains-db/init/*.sql; do
	if [ -f "$original" ]; then
		psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v file="$original" -v table=villain \
			-f /import/postgres.psql
	fi
done
