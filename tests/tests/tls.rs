#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! TLS on every server when `server.tls` is set, mutual TLS when `server.tls.client_ca` is set
//! too, health included; a missing file stops the start naming its key. The certificates are
//! in tests/fixtures/tls (see its README).

use std::path::{Path, PathBuf};
use std::time::Duration;

use resonance_cli::config::TlsSettings;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{ClassifyFollowersRequest, FollowerProfile};
use resonance_proto::tonic::Code;
use resonance_proto::tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use resonance_store::testing::Backend;
use resonance_tests::{TestApp, WithKey};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect(name)
}

/// The servers' TLS: the test server certificate, and with `mutual` the test CA for clients.
fn server_tls(mutual: bool) -> TlsSettings {
    TlsSettings {
        cert: fixture("server.pem"),
        key: fixture("server-key.pem"),
        client_ca: mutual.then(|| fixture("ca.pem")),
    }
}

/// A client that trusts the test CA and expects the name in the server's certificate.
fn trusting() -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pem("ca.pem")))
        .domain_name("localhost")
}

/// As [`trusting`], presenting a client certificate.
fn presenting(cert: &str, key: &str) -> ClientTlsConfig {
    trusting().identity(Identity::from_pem(pem(cert), pem(key)))
}

fn classify() -> ClassifyFollowersRequest {
    ClassifyFollowersRequest {
        profiles: vec![FollowerProfile {
            id: "friend".to_owned(),
            followers: 410,
            following: 380,
            media_count: 120,
            has_profile_picture: true,
            username_length: 10,
            bio_length: 40,
            ..Default::default()
        }],
    }
}

/// Whether a health check over `channel` gets an answer. A refused connection fails on connect
/// or, as TLS 1.3 clients learn of a refused certificate after their side of the handshake,
/// on the first call.
async fn health(channel: anyhow::Result<Channel>) -> Result<(), String> {
    let channel = channel.map_err(|error| format!("connect: {error:#}"))?;
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(Duration::from_secs(10), check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(format!("call: {status:?}")),
        Err(_) => Err("no answer within 10s".to_owned()),
    }
}

#[tokio::test]
async fn tls_covers_every_server_and_plaintext_is_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.tls = Some(server_tls(false));
    })
    .await
    .expect("app starts");

    // A client that trusts the CA calls with its API key and gets an answer.
    let mut scoring = ScoringServiceClient::with_interceptor(
        app.tls_channel(app.scoring, trusting())
            .await
            .expect("TLS connect"),
        WithKey::new(&app.api_key).expect("header"),
    );
    let response = scoring
        .classify_followers(classify())
        .await
        .expect("classified over TLS")
        .into_inner();
    assert_eq!(response.classifications.len(), 1, "{response:?}");

    // TLS does not stand in for the API key.
    let mut keyless = ScoringServiceClient::new(
        app.tls_channel(app.scoring, trusting())
            .await
            .expect("TLS connect"),
    );
    let status = keyless
        .classify_followers(classify())
        .await
        .expect_err("no key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    for (name, addr) in [
        ("scoring", app.scoring),
        ("roster", app.roster),
        ("ingest", app.ingest),
    ] {
        // Every server speaks TLS, health included ...
        let secure = health(app.tls_channel(addr, trusting()).await).await;
        assert!(secure.is_ok(), "{name}: health over TLS: {secure:?}");
        // ... and nothing else.
        let plaintext = health(app.bare_channel(addr).await).await;
        assert!(plaintext.is_err(), "{name} answered in plaintext");
        // A client that does not trust the server's CA does not talk to it.
        let untrusting = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pem("other-ca.pem")))
            .domain_name("localhost");
        let unverified = health(app.tls_channel(addr, untrusting).await).await;
        assert!(
            unverified.is_err(),
            "{name}: a server of an unknown CA was trusted"
        );
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_of_the_configured_ca() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.tls = Some(server_tls(true));
    })
    .await
    .expect("app starts");

    for (name, addr) in [
        ("scoring", app.scoring),
        ("roster", app.roster),
        ("ingest", app.ingest),
    ] {
        // No client certificate: refused.
        let anonymous = health(app.tls_channel(addr, trusting()).await).await;
        assert!(
            anonymous.is_err(),
            "{name} admitted a client without a certificate"
        );
        // A certificate signed by another CA: refused.
        let stranger = presenting("other-client.pem", "other-client-key.pem");
        let stranger = health(app.tls_channel(addr, stranger).await).await;
        assert!(
            stranger.is_err(),
            "{name} admitted a certificate of an unknown CA"
        );
        // A certificate signed by the configured CA: health answers over mutual TLS.
        let member = presenting("client.pem", "client-key.pem");
        let member = health(app.tls_channel(addr, member).await).await;
        assert!(member.is_ok(), "{name}: health over mutual TLS: {member:?}");
    }

    // The admitted client calls with its API key and gets an answer ...
    let mut scoring = ScoringServiceClient::with_interceptor(
        app.tls_channel(app.scoring, presenting("client.pem", "client-key.pem"))
            .await
            .expect("mutual TLS connect"),
        WithKey::new(&app.api_key).expect("header"),
    );
    let response = scoring
        .classify_followers(classify())
        .await
        .expect("classified over mutual TLS")
        .into_inner();
    assert_eq!(response.classifications.len(), 1, "{response:?}");
    // ... and a certificate does not stand in for the key.
    let mut keyless = ScoringServiceClient::new(
        app.tls_channel(app.scoring, presenting("client.pem", "client-key.pem"))
            .await
            .expect("mutual TLS connect"),
    );
    let status = keyless
        .classify_followers(classify())
        .await
        .expect_err("no key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_missing_certificate_stops_the_start_naming_the_key() {
    let error = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.tls = Some(TlsSettings {
            cert: fixture("missing.pem"),
            ..server_tls(true)
        });
    })
    .await
    .expect_err("no certificate, no start");
    let message = format!("{error:#}");
    assert!(
        message.contains("server.tls.cert") && message.contains("missing.pem"),
        "{message}"
    );
}
