//! Generates the Rust side of `proto/locations.proto`: the server the service implements,
//! a client of its own for the integration tests, and the encoded descriptors that server
//! reflection answers with.
//!
//! The `.proto` file is parsed by `protox`, a protobuf compiler written in Rust, so that a
//! build needs nothing but cargo: no `protoc` on the machine, in the Dockerfile or in any
//! script that builds the workspace.

use std::{error::Error, path::PathBuf};

const PROTO_DIR: &str = "proto";
const PROTO: &str = "locations.proto";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_DIR}/{PROTO}");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new([PROTO_DIR])?;
    compiler.include_source_info(true).open_file(PROTO)?;
    std::fs::write(
        out.join("locations_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let descriptors = compiler.file_descriptor_set();

    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_fds(descriptors.clone())?;

    // The tests' client, generated apart so that the service's binary carries no client.
    let client = out.join("client");
    std::fs::create_dir_all(&client)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .build_transport(false)
        .out_dir(client)
        .compile_fds(descriptors)?;
    Ok(())
}
