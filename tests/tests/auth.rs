#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Every call of every service needs a brand's valid API key; health and reflection do not.

use std::time::Duration;

use resonance_proto::ingest::ListDeadLettersRequest;
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::roster::ListRostersRequest;
use resonance_proto::roster::roster_service_client::RosterServiceClient;
use resonance_proto::scoring::ClassifyFollowersRequest;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::tonic::{Code, Request};
use resonance_tests::{TestApp, WithKey, backends};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn classify() -> ClassifyFollowersRequest {
    ClassifyFollowersRequest { profiles: vec![] }
}

#[tokio::test]
async fn calls_without_a_valid_key_are_refused_before_any_handler() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |settings| {
            // Revocation takes effect at once.
            settings.auth.cache_ttl = Duration::ZERO;
        })
        .await
        .expect("app starts");

        // No key: every service says UNAUTHENTICATED, whatever the request.
        let mut scoring =
            ScoringServiceClient::new(app.bare_channel(app.scoring).await.expect("connect"));
        let status = scoring
            .classify_followers(classify())
            .await
            .expect_err("no key");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert!(status.message().contains("API key"), "{}", status.message());
        let mut ingest =
            IngestServiceClient::new(app.bare_channel(app.ingest).await.expect("connect"));
        let status = ingest
            .list_dead_letters(ListDeadLettersRequest::default())
            .await
            .expect_err("no key");
        assert_eq!(status.code(), Code::Unauthenticated);
        let mut roster =
            RosterServiceClient::new(app.bare_channel(app.roster).await.expect("connect"));
        let status = roster
            .list_rosters(ListRostersRequest::default())
            .await
            .expect_err("no key");
        assert_eq!(status.code(), Code::Unauthenticated);

        // Health answers without a key.
        let mut health = HealthClient::new(app.bare_channel(app.scoring).await.expect("connect"));
        health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health needs no key");

        // A made-up key is refused; the test brand's key reaches the handler (which then
        // refuses the empty request as invalid, naming the field).
        let mut forged = ScoringServiceClient::with_interceptor(
            app.bare_channel(app.scoring).await.expect("connect"),
            WithKey::new("rsn_0000000000000000000000000000000000000000000000000000000000000000")
                .expect("header"),
        );
        let status = forged
            .classify_followers(classify())
            .await
            .expect_err("forged");
        assert_eq!(status.code(), Code::Unauthenticated);
        let mut keyed = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
        let status = keyed
            .classify_followers(classify())
            .await
            .expect_err("empty");
        assert_eq!(status.code(), Code::InvalidArgument);

        // A second key works through x-api-key until it is revoked.
        let (second, secret) = app
            .store
            .brands()
            .create_key(app.brand, "second", None, chrono::Utc::now())
            .await
            .expect("second key");
        let header: resonance_proto::tonic::metadata::MetadataValue<_> =
            secret.expect("shown once").parse().expect("header");
        let call = |header| {
            let mut request = Request::new(classify());
            request.metadata_mut().insert("x-api-key", header);
            request
        };
        let status = scoring
            .classify_followers(call(header.clone()))
            .await
            .expect_err("empty");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            app.store
                .brands()
                .revoke(app.brand, second.id, chrono::Utc::now())
                .await
                .expect("revoke")
                .is_some_and(|key| key.revoked_at.is_some())
        );
        let status = scoring
            .classify_followers(call(header))
            .await
            .expect_err("revoked");
        assert_eq!(status.code(), Code::Unauthenticated);
        let keys = app
            .store
            .brands()
            .keys(app.brand, None, 100)
            .await
            .expect("keys");
        assert_eq!(keys.len(), 2);
        assert!(
            keys.iter()
                .all(|k| k.prefix.starts_with("rsn_") && k.prefix.len() == 15)
        );
        assert!(keys[1].revoked_at.is_some() && keys[0].revoked_at.is_none());
        app.stop().await.expect("clean stop");
    }
}
