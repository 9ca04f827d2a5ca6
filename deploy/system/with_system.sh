#!/usr/bin/env bash
# Runs a command against the native system (deploy/system/system.sh): starts the system
# when nothing answers on fights' port and stops it again once the command has ended; a
# system that was already up stays up. The command's exit code is this script's.
#
#   deploy/system/with_system.sh COMMAND [ARGS...]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FIGHTS_PORT=${FIGHTS_PORT:-8004}

started=0
if ! curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$FIGHTS_PORT/q/health/ready"; then
	"$ROOT/deploy/system/system.sh" up
	started=1
fi
stop() { if [[ $started == 1 ]]; then "$ROOT/deploy/system/system.sh" down; fi; }
trap stop EXIT

"$@"
