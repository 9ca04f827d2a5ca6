# The one entry point of the project. `make test` is what CI runs.
.PHONY: test up down lint

# All tests: start and provision the databases natively (installing them if absent),
# then every crate's unit and integration tests, then the compose.yml consistency check.
test:
	database/setup.sh all
	cargo test --workspace
	command -v docker-compose >/dev/null || (apt-get update && apt-get install -y docker-compose)
	python3 -c 'import yaml' 2>/dev/null || apt-get install -y python3-yaml
	python3 bench/compose_check.py

# The whole system natively: release build, databases, services on 8001-8004, ready.
up:
	bench/system.sh up

down:
	bench/system.sh down

# Formatting and lints, as checked before every commit.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
