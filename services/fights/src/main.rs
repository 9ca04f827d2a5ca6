//! The fights binary: parse config, bind, serve until SIGTERM/SIGINT.

#[global_allocator]
static GLOBAL: kit::MiMalloc = kit::MiMalloc;

fn main() -> std::process::ExitCode {
    kit::process::run("fights", fights::Config::from_env, fights::run)
}
