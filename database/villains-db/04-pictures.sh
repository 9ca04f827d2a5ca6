# First start of the villains-db container (sourced by the entrypoint, so no exit): when
# PICTURES_URL (compose.yml: PICTURES_HOST and VILLAINS_PORT) is not the seed's
# http://localhost:8002, the seed pictures are moved there, so a browser finds them.
if [ -n "${PICTURES_URL:-}" ] && [ "$PICTURES_URL" != http://localhost:8002 ]; then
	echo "UPDATE villain SET picture = '$PICTURES_URL' || substr(picture, 22) WHERE picture LIKE 'http://localhost:8002/%';" |
		psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
fi
