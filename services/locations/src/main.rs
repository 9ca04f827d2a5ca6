//! The locations binary: configuration, bind and serve, all in `locations::run`.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: kit::MiMalloc = kit::MiMalloc;

fn main() -> ExitCode {
    kit::process::run("locations", locations::Config::from_env, locations::run)
}
