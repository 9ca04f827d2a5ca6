//! The villains service binary: configuration from the environment, then the shared catalogue.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: kit::MiMalloc = kit::MiMalloc;

fn main() -> ExitCode {
    kit::process::run(
        "villains",
        |env| catalog::Config::from_env(catalog::VILLAINS, env),
        catalog::run,
    )
}
