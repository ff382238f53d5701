#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The real binary under a real SIGTERM, as an orchestrator stops it: while clients call it
//! back to back, health turns NOT_SERVING, no call fails, and the process exits 0 within its
//! drain delay plus grace period.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use resonance_proto::api_key::WithKey;
use resonance_proto::common::Platform;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{AccountData, Profile, ScoreAccountRequest};
use resonance_proto::tonic::transport::Endpoint;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const DRAIN_DELAY: Duration = Duration::from_millis(300);
const GRACE: Duration = Duration::from_secs(3);

fn request() -> ScoreAccountRequest {
    ScoreAccountRequest {
        account: Some(AccountData {
            profile: Some(Profile {
                platform: Platform::Instagram as i32,
                handle: "signal.test".to_owned(),
                followers: 30_000,
                ..Default::default()
            }),
            ..Default::default()
        }),
        engagement_definition: None,
    }
}

#[tokio::test]
async fn sigterm_under_steady_calls_fails_none_and_exits_within_its_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("resonance.db").display());
    // A brand and its key, made the way an operator makes them.
    let created = Command::new(env!("CARGO_BIN_EXE_resonance"))
        .args(["brand", "create", "signals"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RESONANCE__DATABASE__URL", &database)
        .env("RESONANCE__TELEMETRY__FILTER", "warn")
        .output()
        .await
        .expect("brand create runs");
    assert!(created.status.success(), "{created:?}");
    let key = String::from_utf8(created.stdout)
        .expect("utf-8")
        .lines()
        .find(|line| line.starts_with("rsn_"))
        .expect("the key is printed")
        .to_owned();
    let with_key = WithKey::new(&key).expect("header value");
    let mut child = Command::new(env!("CARGO_BIN_EXE_resonance"))
        .arg("up")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RESONANCE__DATABASE__URL", database)
        .env("RESONANCE__TELEMETRY__METRICS_LISTEN", "127.0.0.1:0")
        .env("RESONANCE__SCORING__LISTEN", "127.0.0.1:0")
        .env("RESONANCE__ROSTER__LISTEN", "127.0.0.1:0")
        .env("RESONANCE__INGEST__LISTEN", "127.0.0.1:0")
        .env("RESONANCE__INGEST__WORKER__ENABLED", "false")
        .env("RESONANCE__SERVER__DRAIN_DELAY", "300ms")
        .env("RESONANCE__SERVER__SHUTDOWN_GRACE", "3s")
        .env("RESONANCE__TELEMETRY__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");

    // The binary prints "<name> listening on <addr>" for each server once bound.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut scoring = None;
    while scoring.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the binary reports its addresses")
            .expect("read stdout")
            .expect("stdout closed before the servers were bound");
        if let Some(addr) = line.strip_prefix("scoring listening on ") {
            scoring = Some(addr.to_owned());
        }
    }
    let endpoint =
        Endpoint::from_shared(format!("http://{}", scoring.expect("address"))).expect("endpoint");
    let channel = endpoint.connect().await.expect("connect");

    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let routing = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut client = ScoringServiceClient::with_interceptor(channel.clone(), with_key.clone());
        let (ok, failed, routing) = (ok.clone(), failed.clone(), routing.clone());
        clients.push(tokio::spawn(async move {
            while routing.load(Ordering::SeqCst) {
                match client.score_account(request()).await {
                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                    Err(status) => {
                        eprintln!("call failed: {status:?}");
                        failed.fetch_add(1, Ordering::SeqCst)
                    }
                };
            }
        }));
    }
    let mut health = HealthClient::new(channel.clone());
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "resonance.scoring.v1.ScoringService".to_owned(),
        })
        .await
        .expect("watch health")
        .into_inner();
    assert_eq!(
        watch.next().await.and_then(Result::ok).map(|r| r.status),
        Some(ServingStatus::Serving as i32)
    );
    while ok.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let pid = child.id().expect("running").to_string();
    let started = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIGTERM sent");

    // Like a load balancer: stop routing once health says NOT_SERVING.
    let next = watch.next().await.and_then(Result::ok).map(|r| r.status);
    assert_eq!(next, Some(ServingStatus::NotServing as i32));
    routing.store(false, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    drop((watch, health, channel));

    let exit = tokio::time::timeout(DRAIN_DELAY + GRACE + Duration::from_secs(2), child.wait())
        .await
        .expect("the process exits within drain delay + grace")
        .expect("wait");
    let took = started.elapsed();
    assert!(exit.success(), "exit status {exit:?}");
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "calls failed during shutdown"
    );
    assert!(took < DRAIN_DELAY + GRACE, "shutdown took {took:?}");
}
