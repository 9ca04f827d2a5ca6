# The one entry point of the project. `make test` is what CI runs.
.PHONY: test up down lint

# All tests: start and provision the databases natively (installing them if absent),
# then every crate's unit and integration tests.
test:
	database/setup.sh all
	cargo test --workspace

# The whole system natively: release build, databases, services on 8001-8004, ready.
up:
	bench/system.sh up

down:
	bench/system.sh down

# Formatting and lints, as checked before every commit.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
