#!/bin/sh
# `mongod` runs nx-27017 on 0.0.0.0:27017 with one SQLite file per database in /data/db;
# the first-start step (init.py) runs beside it. Any other command runs as given.
set -eu
if [ "${1:-}" = mongod ]; then
	shift
	/opt/mongo/bin/python3 /usr/local/lib/mongo-standin/init.py &
	exec /opt/mongo/bin/nx-27017 --data-dir /data/db --host 0.0.0.0 --port 27017 \
		--pid-file /tmp/nx-27017.pid --log-file /tmp/nx-27017.log "$@"
fi
exec "$@"
