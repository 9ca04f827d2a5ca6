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

if [[ -n ${ARENA_BASE_URL:-} ]]; then
	node "$HERE/arena.test.mjs"
else
	"$ROOT/deploy/system/with_system.sh" node "$HERE/arena.test.mjs"
fi
