#!/usr/bin/env bash
# OpenTelemetry export end to end (otlp_test.py): installs opentelemetry-proto from PyPI
# when absent, builds the release binaries (nothing to do after smoke.sh), then runs
# the four services against a receiver of our own and checks the monitoring overlay.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python3 -c 'import opentelemetry.proto' 2>/dev/null ||
	python3 -m pip install --quiet 'opentelemetry-proto==1.*'
command -v docker-compose >/dev/null || (apt-get update && apt-get install -y docker-compose)
cd "$ROOT"
cargo build --release -p heroes -p villains -p locations -p fights
python3 deploy/system/otlp_test.py
