//! The `devgpu` binary: everything lives in the library so tests and benches share it.
fn main() -> std::process::ExitCode {
    devgpu::main(std::env::args_os())
}
