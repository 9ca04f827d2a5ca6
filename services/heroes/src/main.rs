//! The heroes service binary: configuration from the environment, then the shared catalogue.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: kit::MiMalloc = kit::MiMalloc;

fn main() -> ExitCode {
    kit::process::run(
        "heroes",
        |env| catalog::Config::from_env(catalog::HEROES, env),
        catalog::run,
    )
}
