#!/usr/bin/env bash
# The original system's consumer expectations of ours (interop.py): installs grpcio and
# grpcio-tools from PyPI when absent, then runs the checks against the native system
# (with_system.sh starts it when it is not running, and stops it again).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
	python3 -m pip install --quiet 'grpcio==1.85.*' 'grpcio-tools==1.85.*'

cd "$ROOT" && deploy/system/with_system.sh python3 -m deploy.system.interop
