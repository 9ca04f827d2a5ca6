# First start of the locations-db container (sourced by the entrypoint, so no exit): when
# PICTURES_URL (compose.yml: PICTURES_HOST and LOCATIONS_PORT) is not the seed's
# http://localhost:8003, the seed pictures are moved there, so a browser finds them.
if [ -n "${PICTURES_URL:-}" ] && [ "$PICTURES_URL" != http://localhost:8003 ]; then
	echo "UPDATE locations SET picture = CONCAT('$PICTURES_URL', SUBSTR(picture, 22)) WHERE picture LIKE 'http://localhost:8003/%';" |
		mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" "$MARIADB_DATABASE"
fi
