fn main() -> std::process::ExitCode {
    qoltanba::cli::run(std::env::args_os())
}
