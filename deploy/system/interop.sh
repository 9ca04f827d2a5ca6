#!/usr/bin/env bash
# The original system's consumer expectations of ours (interop.py): installs grpcio and
# grpcio-tools from PyPI when absent, starts the native system when nothing answers on
# 8004 (and stops it again), then runs the checks.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
	python3 -m pip install --quiet 'grpcio==1.85.*' 'grpcio-tools==1.85.*'

started=0
if ! curl -fs -o /dev/null --max-time 2 http://127.0.0.1:8004/q/health/ready; then
	"$ROOT/deploy/system/system.sh" up
	started=1
fi
stop() { if [[ $started == 1 ]]; then "$ROOT/deploy/system/system.sh" down; fi; }
trap stop EXIT

cd "$ROOT" && python3 -m deploy.system.interop
