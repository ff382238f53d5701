#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! What operators and client developers rely on: health, reflection, limits, and a graceful
//! shutdown that fails no call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use resonance_proto::common::Platform;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{AccountData, Profile, ScoreAccountRequest};
use resonance_proto::tonic::Code;
use resonance_store::testing::Backend;
use resonance_tests::TestApp;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

fn score_request(followers: i64) -> ScoreAccountRequest {
    ScoreAccountRequest {
        account: Some(AccountData {
            profile: Some(Profile {
                platform: Platform::Instagram as i32,
                handle: "steady".to_owned(),
                followers,
                ..Default::default()
            }),
            ..Default::default()
        }),
        engagement_definition: None,
    }
}

async fn status_of(app: &TestApp, addr: std::net::SocketAddr, service: &str) -> i32 {
    let mut health = HealthClient::new(app.channel(addr).await.expect("connect"));
    let response: HealthCheckResponse = health
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health check")
        .into_inner();
    response.status
}

#[tokio::test]
async fn every_server_reports_health_and_serves_reflection() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app starts");
    let serving = ServingStatus::Serving as i32;
    assert_eq!(
        status_of(&app, app.scoring, "resonance.scoring.v1.ScoringService").await,
        serving
    );
    assert_eq!(
        status_of(&app, app.roster, "resonance.roster.v1.RosterService").await,
        serving
    );
    assert_eq!(
        status_of(&app, app.roster, "resonance.campaign.v1.CampaignService").await,
        serving
    );
    assert_eq!(
        status_of(&app, app.ingest, "resonance.ingest.v1.IngestService").await,
        serving
    );
    assert_eq!(status_of(&app, app.ingest, "").await, serving);

    let mut reflection =
        ServerReflectionClient::new(app.channel(app.scoring).await.expect("connect"));
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let Some(Ok(response)) = responses.next().await else {
        panic!("no reflection response")
    };
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected response")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"resonance.scoring.v1.ScoringService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("IngestService")),
        "the scoring server advertises only what it serves: {names:?}"
    );
    // Every advertised service resolves to its schema, as reflection clients (buf curl
    // --list-methods, grpcurl) require.
    let requests: Vec<ServerReflectionRequest> = names
        .iter()
        .map(|name| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(name.clone())),
        })
        .collect();
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter(requests))
        .await
        .expect("reflection")
        .into_inner();
    for name in &names {
        let answer = answers
            .next()
            .await
            .and_then(Result::ok)
            .and_then(|r| r.message_response);
        assert!(
            matches!(answer, Some(MessageResponse::FileDescriptorResponse(_))),
            "{name} does not resolve: {answer:?}"
        );
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn bad_input_gets_invalid_argument_naming_the_field_and_oversized_messages_are_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.server.max_message_bytes = 64 * 1024)
        .await
        .expect("app starts");
    let mut scoring = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
    let error = scoring
        .score_account(score_request(-3))
        .await
        .expect_err("negative followers");
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(
        error.message(),
        "account.profile.followers: must not be negative (got -3)"
    );

    let mut huge = score_request(1_000);
    if let Some(profile) = huge.account.as_mut().and_then(|a| a.profile.as_mut()) {
        profile.bio = "x".repeat(128 * 1024);
    }
    let error = scoring.score_account(huge).await.expect_err("too large");
    assert_eq!(error.code(), Code::OutOfRange, "{error:?}");
    // The server is still healthy and serving.
    assert!(scoring.score_account(score_request(1_000)).await.is_ok());
    app.stop().await.expect("clean stop");
}

/// Sends a request's bytes as they are, and returns the response's.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl resonance_proto::tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl resonance_proto::tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = resonance_proto::tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        buf: &mut resonance_proto::tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Self::Error> {
        use resonance_proto::prost::bytes::BufMut as _;
        buf.put_slice(&item);
        Ok(())
    }
}

impl resonance_proto::tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = resonance_proto::tonic::Status;

    fn decode(
        &mut self,
        buf: &mut resonance_proto::tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, Self::Error> {
        use resonance_proto::prost::bytes::Buf as _;
        Ok(Some(buf.copy_to_bytes(buf.remaining()).to_vec()))
    }
}

#[tokio::test]
async fn deeply_nested_messages_are_refused_and_the_server_stays_healthy() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app starts");
    // 10,000 nested groups in a field the request does not have: decoding stops at prost's
    // recursion limit (100) instead of running the server's stack out.
    let mut nested = Vec::new();
    for _ in 0..10_000 {
        nested.extend_from_slice(&[0x9b, 0x06]); // field 99, start group
    }
    for _ in 0..10_000 {
        nested.extend_from_slice(&[0x9c, 0x06]); // field 99, end group
    }
    let mut grpc =
        resonance_proto::tonic::client::Grpc::new(app.channel(app.scoring).await.expect("connect"));
    grpc.ready().await.expect("ready");
    let error = grpc
        .unary(
            resonance_proto::tonic::Request::new(nested),
            resonance_proto::tonic::codegen::http::uri::PathAndQuery::from_static(
                "/resonance.scoring.v1.ScoringService/ScoreAccount",
            ),
            RawCodec,
        )
        .await
        .expect_err("refused");
    // gRPC's status codes say a request that cannot be parsed is INTERNAL; the message says why.
    assert_eq!(error.code(), Code::Internal, "{error:?}");
    assert!(
        error.message().contains("recursion limit"),
        "{}",
        error.message()
    );
    let mut scoring = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
    assert!(scoring.score_account(score_request(1_000)).await.is_ok());
    app.stop().await.expect("clean stop");
}

/// A client that sends calls back to back and, like a load balancer, stops routing to the
/// server once its health turns NOT_SERVING. No call may fail, and the server must stop
/// within its drain delay plus grace period.
#[tokio::test]
async fn shutdown_under_steady_traffic_fails_no_call_and_ends_within_its_bound() {
    let drain_delay = Duration::from_millis(300);
    let grace = Duration::from_secs(2);
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.server.drain_delay = drain_delay;
        s.server.shutdown_grace = grace;
    })
    .await
    .expect("app starts");
    let channel = app.channel(app.scoring).await.expect("connect");
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let routing = Arc::new(std::sync::atomic::AtomicBool::new(true));

    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut scoring = ScoringServiceClient::new(channel.clone());
        let (ok, failed, routing) = (ok.clone(), failed.clone(), routing.clone());
        clients.push(tokio::spawn(async move {
            while routing.load(Ordering::SeqCst) {
                match scoring.score_account(score_request(50_000)).await {
                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                    Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        }));
    }
    let mut health = HealthClient::new(app.channel(app.scoring).await.expect("connect"));
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "resonance.scoring.v1.ScoringService".to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    assert_eq!(
        watch.next().await.and_then(Result::ok).map(|r| r.status),
        Some(ServingStatus::Serving as i32)
    );
    while ok.load(Ordering::SeqCst) < 50 {
        tokio::task::yield_now().await;
    }

    let started = Instant::now();
    app.begin_shutdown();
    let next = watch.next().await.and_then(Result::ok).map(|r| r.status);
    assert_eq!(next, Some(ServingStatus::NotServing as i32));
    routing.store(false, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    drop(watch);
    drop(health);
    drop(channel);
    app.stop().await.expect("clean stop");
    let took = started.elapsed();

    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "calls failed during shutdown"
    );
    assert!(ok.load(Ordering::SeqCst) >= 50);
    assert!(took < drain_delay + grace, "shutdown took {took:?}");
}

#[tokio::test]
async fn at_the_concurrency_limit_calls_are_refused_but_health_checks_are_answered() {
    use resonance_proto::ingest::IngestRecordsRequest;
    use resonance_proto::ingest::ingest_service_client::IngestServiceClient;

    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.server.max_concurrent_calls = 1)
        .await
        .expect("app starts");
    // A client stream that stays open holds the only permit until it is dropped.
    let mut ingest = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
    let open_stream =
        futures::stream::iter([IngestRecordsRequest::default()]).chain(futures::stream::pending());
    let held = tokio::spawn(async move { ingest.ingest_records(open_stream).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut jobs = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
    let refused = jobs
        .list_ingest_jobs(resonance_proto::ingest::ListIngestJobsRequest::default())
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("concurrent calls"),
        "{refused:?}"
    );
    assert_eq!(
        status_of(&app, app.ingest, "").await,
        ServingStatus::Serving as i32,
        "health is exempt from the limit"
    );

    held.abort();
    let _ = held.await;
    // With the permit back, calls succeed again.
    let mut answered = false;
    for _ in 0..50 {
        match jobs
            .list_ingest_jobs(resonance_proto::ingest::ListIngestJobsRequest::default())
            .await
        {
            Ok(_) => {
                answered = true;
                break;
            }
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(status) => panic!("unexpected failure: {status:?}"),
        }
    }
    assert!(answered, "the permit was never released");
    app.stop().await.expect("stops");
}

/// `GET /metrics` on the metrics port: the text format, as a scraper reads it.
async fn scrape(app: &TestApp) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.metrics)
        .await
        .expect("metrics port answers");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .expect("request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[tokio::test]
async fn metrics_count_calls_by_method_and_code_and_read_gauges_from_the_database() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app starts");
    let mut scoring = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
    for _ in 0..2 {
        scoring
            .score_account(score_request(1_000))
            .await
            .expect("scores");
    }
    let error = scoring
        .score_account(score_request(-1))
        .await
        .expect_err("negative followers");
    assert_eq!(error.code(), Code::InvalidArgument);
    // A call without a key is refused before any handler, and counted.
    let mut anonymous =
        ScoringServiceClient::new(app.bare_channel(app.scoring).await.expect("connect"));
    assert!(anonymous.score_account(score_request(1)).await.is_err());

    // The caller's trace id comes back, and a call without one gets its own.
    let mut traced = resonance_proto::tonic::Request::new(score_request(1_000));
    traced.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("ascii"),
    );
    let answered = scoring.score_account(traced).await.expect("scores");
    assert_eq!(
        answered
            .metadata()
            .get("x-trace-id")
            .map(|v| v.to_str().ok()),
        Some(Some("4bf92f3577b34da6a3ce929d0e0e4736"))
    );
    let answered = scoring
        .score_account(score_request(1_000))
        .await
        .expect("scores");
    let own = answered.metadata().get("x-trace-id").expect("a trace id");
    assert_eq!(own.len(), 32);

    let text = scrape(&app).await;
    let method = "resonance.scoring.v1.ScoringService/ScoreAccount";
    for (code, count) in [("Ok", 4), ("InvalidArgument", 1), ("Unauthenticated", 1)] {
        let line = format!(
            "resonance_grpc_requests_total{{code=\"{code}\",method=\"{method}\",server=\"scoring\"}} {count}"
        );
        assert!(text.contains(&line), "missing {line} in\n{text}");
        // Latency is kept per code too: refusals are not averaged into the answers.
        let line = format!(
            "resonance_grpc_request_duration_seconds_count{{code=\"{code}\",method=\"{method}\",server=\"scoring\"}} {count}"
        );
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    for gauge in [
        "resonance_rescore_pending ",
        "resonance_dead_letters_stored ",
        "resonance_db_pool_connections{state=\"max\"} 8",
    ] {
        assert!(text.contains(gauge), "missing {gauge} in\n{text}");
    }
    app.stop().await.expect("clean stop");
}
