# First start of the heroes-db container (sourced by the entrypoint, so no exit): when
# PICTURES_URL (compose.yml: PICTURES_HOST and HEROES_PORT) is not the seed's
# http://localhost:8001, the seed pictures are moved there, so a browser finds them.
if [ -n "${PICTURES_URL:-}" ] && [ "$PICTURES_URL" != http://localhost:8001 ]; then
	echo "UPDATE hero SET picture = '$PICTURES_URL' || substr(picture, 22) WHERE picture LIKE 'http://localhost:8001/%';" |
		psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
fi
