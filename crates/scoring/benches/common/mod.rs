//! What the gRPC benchmarks share: a scratch SQLite store, the engine, a server on port 0.

#![allow(dead_code, reason = "each benchmark uses part of this")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use resonance_core::authenticity::{Classifier, FakeFollowerModel};
use resonance_core::{ScoringConfig, ScoringModel};
use resonance_proto::scoring::scoring_service_server::{ScoringService, ScoringServiceServer};
use resonance_proto::tonic::transport::server::TcpIncoming;
use resonance_proto::tonic::transport::{Channel, Endpoint, Server};
use resonance_scoring::{Engine, RescoreConfig, Rescorer, ScoringApi};
use resonance_store::{DatabaseConfig, Store};
use secrecy::SecretString;

pub(crate) const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

pub(crate) async fn scratch_store(dir: &std::path::Path) -> Store {
    let config = DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", dir.join("bench.db").display())),
        ..DatabaseConfig::default()
    };
    let store = Store::connect(&config).await.expect("open SQLite");
    store.migrate().await.expect("migrate");
    store
}

pub(crate) fn engine() -> Arc<Engine> {
    let model: FakeFollowerModel = serde_json::from_str(include_str!(
        "../../../../deploy/models/fake-followers-instafake.json"
    ))
    .expect("builtin model");
    Arc::new(Engine::new(
        ScoringModel::new(&ScoringConfig::default()).expect("default config"),
        Classifier::Model(model),
    ))
}

/// Serves `service` on an ephemeral port until the process ends.
pub(crate) async fn serve<S: ScoringService>(service: S) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = ScoringServiceServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tokio::spawn(
        Server::builder()
            .add_service(server)
            // As the services serve: without TCP_NODELAY every multi-segment answer waits
            // ~40 ms for a delayed ACK.
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    addr
}

pub(crate) async fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

pub(crate) fn scoring_api(store: Store, engine: Arc<Engine>) -> ScoringApi {
    ScoringApi::new(Rescorer::new(store, engine, RescoreConfig::default()))
}

/// Percentile (0-100) of sorted durations, in milliseconds.
pub(crate) fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
