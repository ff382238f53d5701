//! The `resonance` binary; everything it does lives in the library.

#![allow(
    unused_crate_dependencies,
    reason = "the binary is a thin shell; the library uses the dependencies"
)]

/// jemalloc rather than the system's allocator: an import parses records on one thread and
/// writes and frees them on others, and glibc's malloc spent a fifth of the import's CPU time
/// on that (bench/RESULTS.md, "jemalloc").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    resonance_cli::commands::main()
}
