//! The Resonance process: configuration, telemetry, and the servers it runs. The `resonance`
//! binary is a thin layer over this library, and the end-to-end tests start the same
//! [`app::Application`] in-process.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

// The binary's allocator (main.rs): a dependency of the package, so the library names it too.
use tikv_jemallocator as _;

pub mod app;
pub mod auth;
pub mod authenticity;
pub mod commands;
pub mod config;
mod deadline;
mod limit;
pub mod metrics;
pub mod server;
pub mod telemetry;
