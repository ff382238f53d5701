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
