#!/usr/bin/env bash
# The browser test of the fight arena page (arena.test.mjs): installs Debian's chromium and
# playwright-core when absent, starts the native system when nothing answers on 8004 (and
# stops it again), then runs the test. ARENA_BASE_URL points it at another system instead.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)

if [[ ! -x /usr/bin/chromium ]]; then
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "browser: Node.js 20 or later with npm is needed (apt-get install nodejs npm)" >&2
	exit 1
fi
if [[ ! -d $HERE/node_modules ]]; then
	(cd "$HERE" && npm ci --no-audit --no-fund)
fi

started=0
if [[ -z ${ARENA_BASE_URL:-} ]] && ! curl -fs -o /dev/null --max-time 2 http://127.0.0.1:8004/q/health/ready; then
	"$ROOT/deploy/system/system.sh" up
	started=1
fi
stop() { if [[ $started == 1 ]]; then "$ROOT/deploy/system/system.sh" down; fi; }
trap stop EXIT

node "$HERE/arena.test.mjs"
