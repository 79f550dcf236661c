// See Cargo.toml: memory freed after a large request goes back to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    qoltanba::cli::run(std::env::args_os())
}
