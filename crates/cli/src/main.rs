//! The `resonance` binary; everything it does lives in the library.

#![allow(
    unused_crate_dependencies,
    reason = "the binary is a thin shell; the library uses the dependencies"
)]

fn main() -> std::process::ExitCode {
    resonance_cli::commands::main()
}
