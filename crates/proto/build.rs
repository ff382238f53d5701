//! Compiles the contracts in the top-level proto/ tree with protox (no system protoc), writes
//! the descriptor set that the servers expose through reflection, and generates the Rust code.

use std::env;
use std::fs;
use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "resonance/common/v1/common.proto",
    "resonance/scoring/v1/scoring.proto",
    "resonance/roster/v1/roster.proto",
    "resonance/campaign/v1/campaign.proto",
    "resonance/ingest/v1/ingest.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(PROTOS)?;

    fs::write(
        out_dir.join("resonance_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    // Relative to this package, not absolute: CI shares one target directory between fresh
    // clones, and absolute paths would watch an earlier clone's files.
    for proto in PROTOS {
        println!("cargo:rerun-if-changed=../../proto/{proto}");
    }
    println!("cargo:rerun-if-changed=../../proto");
    println!("cargo:rerun-if-changed=build.rs");

    // Default stubs answer UNIMPLEMENTED for RPCs a service does not implement yet, so a
    // contract can grow ahead of its implementation without breaking the build.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .generate_default_stubs(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
