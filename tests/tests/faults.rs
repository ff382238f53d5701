#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The platform on a bad day: calls that outlive their deadline, a database that goes away
//! mid-traffic, and NATS going away under the ingestion worker. What a caller sees, what is
//! left in the database, and that service resumes by itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use resonance_core::{Handle, Platform as CorePlatform};
use resonance_proto::common::{CreatorRef, Platform};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::{IngestRecordsRequest, PostRecord, Record, record::Kind};
use resonance_proto::retry::{Retry, RetryConfig};
use resonance_proto::roster::roster_service_client::RosterServiceClient;
use resonance_proto::roster::{CreateRosterRequest, ListRostersRequest, Roster};
use resonance_proto::scoring::Post;
use resonance_proto::tonic::{Code, Request, Status};
use resonance_store::testing::{Backend, TEST_DATABASE_URL};
use resonance_tests::proxy::{TcpProxy, url_address};
use resonance_tests::{KeyedChannel, TestApp, backends, database_through, profile_record};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ROSTER_SERVICE: &str = "resonance.roster.v1.RosterService";

fn create_roster(name: &str, request_id: &str) -> CreateRosterRequest {
    CreateRosterRequest {
        roster: Some(Roster {
            display_name: name.to_owned(),
            ..Default::default()
        }),
        request_id: request_id.to_owned(),
    }
}

async fn all_rosters(client: &mut RosterServiceClient<KeyedChannel>) -> Vec<Roster> {
    let mut rosters = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_rosters(ListRostersRequest {
                page_size: 1_000,
                page_token: page_token.clone(),
            })
            .await
            .expect("list rosters")
            .into_inner();
        rosters.extend(page.rosters);
        if page.next_page_token.is_empty() {
            return rosters;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_call_past_its_deadline_is_answered_at_it_and_writes_nothing() {
    for backend in backends() {
        deadline_on(backend).await;
    }
}

async fn deadline_on(backend: Backend) {
    let app = TestApp::spawn(backend).await.expect("app starts");
    let mut rosters = RosterServiceClient::new(app.channel(app.roster).await.expect("connect"));
    assert!(all_rosters(&mut rosters).await.is_empty());

    // Every write to rosters waits behind another connection's lock.
    let lock = app
        .database()
        .hold_write_lock("rosters")
        .await
        .expect("lock");
    let deadline = Duration::from_millis(400);
    let mut late = Request::new(create_roster("too late", ""));
    late.set_timeout(deadline);
    let started = Instant::now();
    let refused = rosters
        .create_roster(late)
        .await
        .expect_err("past its deadline");
    let took = started.elapsed();
    assert_eq!(
        refused.code(),
        Code::DeadlineExceeded,
        "{backend:?}: {refused:?}"
    );
    assert!(
        took >= deadline - Duration::from_millis(20)
            && took < deadline + Duration::from_millis(250),
        "{backend:?}: answered after {took:?} for a deadline of {deadline:?}"
    );
    assert!(!refused.message().contains("INSERT"), "{refused:?}");

    // The lock goes away while the abandoned write could still be waiting for it; it must not
    // land afterwards.
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.release().await.expect("release");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        all_rosters(&mut rosters).await.is_empty(),
        "{backend:?}: a write landed after its caller was told it failed"
    );

    // The server is as good as before, and a generous deadline is met.
    let mut on_time = Request::new(create_roster("on time", ""));
    on_time.set_timeout(Duration::from_secs(10));
    rosters.create_roster(on_time).await.expect("created");
    assert_eq!(all_rosters(&mut rosters).await.len(), 1);
    app.stop().await.expect("stops");
}

/// The health of one service, as a readiness probe or load balancer asks for it.
async fn health(app: &TestApp, service: &str) -> ServingStatus {
    let mut client = HealthClient::new(app.channel(app.roster).await.expect("connect"));
    let status = client
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health answers whatever the database does")
        .into_inner()
        .status;
    ServingStatus::try_from(status).expect("known status")
}

async fn wait_for_health(app: &TestApp, service: &str, wanted: ServingStatus) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if health(app, service).await == wanted {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{service} did not become {wanted:?} within 10s");
}

/// One creator's profile and five posts: a push that writes several tables at once.
fn creator_records(handle: &str) -> Vec<Record> {
    let mut records = vec![profile_record(handle, 40_000)];
    records.extend((0..5).map(|n| Record {
        kind: Some(Kind::Post(PostRecord {
            account: Some(CreatorRef {
                platform: Platform::Instagram as i32,
                handle: handle.to_owned(),
            }),
            post: Some(Post {
                external_id: format!("{handle}-{n}"),
                posted_time: Some(resonance_proto::prost_types::Timestamp {
                    seconds: 1_790_000_000 + n * 3_600,
                    nanos: 0,
                }),
                likes: Some(1_000 + n),
                comments: Some(20),
                ..Default::default()
            }),
            observed_time: None,
        })),
    }));
    records
}

/// What the traffic generator saw of each request id: its last outcome.
type Outcomes = Arc<Mutex<BTreeMap<String, Result<(), Code>>>>;

#[tokio::test]
async fn when_the_database_goes_away_calls_fail_unavailable_health_follows_and_service_resumes() {
    let Ok(admin) = std::env::var(TEST_DATABASE_URL) else {
        eprintln!("SKIPPED: needs PostgreSQL ({TEST_DATABASE_URL})");
        return;
    };
    let proxy = TcpProxy::start(url_address(&admin).expect("database address"))
        .await
        .expect("proxy");
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        database_through(s, proxy.addr).expect("database url");
        s.server.health_check_interval = Duration::from_millis(100);
        s.database.acquire_timeout = Duration::from_millis(500);
        s.database.migrate_on_start = true;
    })
    .await
    .expect("app starts");
    let rosters = RosterServiceClient::new(app.channel(app.roster).await.expect("connect"));
    let ingest = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
    assert_eq!(health(&app, ROSTER_SERVICE).await, ServingStatus::Serving);

    // Traffic: creates and pushes, each with its own request id, through a client that retries
    // UNAVAILABLE a little (the budget and attempt cap keep the outage from being hammered).
    let retry = Retry::new(RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..RetryConfig::default()
    })
    .expect("retry");
    let outcomes: Outcomes = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let traffic = tokio::spawn({
        let (rosters, ingest, retry, outcomes) = (
            rosters.clone(),
            ingest.clone(),
            retry.clone(),
            outcomes.clone(),
        );
        async move {
            let mut n: u64 = 0;
            while !*stopped.borrow() {
                n += 1;
                let id = format!("fault-{n}");
                let outcome = if n.is_multiple_of(2) {
                    roster_call(&retry, &rosters, &id).await
                } else {
                    push_call(&retry, &ingest, &id).await
                };
                outcomes
                    .lock()
                    .expect("outcomes")
                    .insert(id, outcome.map(drop).map_err(|s| s.code()));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let succeeded = |outcomes: &Outcomes| {
        outcomes
            .lock()
            .expect("outcomes")
            .values()
            .filter(|o| o.is_ok())
            .count()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = succeeded(&outcomes);
    assert!(before > 0, "no call succeeded before the cut");

    proxy.cut();
    let noticed = wait_for_health(&app, ROSTER_SERVICE, ServingStatus::NotServing).await;
    assert_eq!(
        health(&app, "").await,
        ServingStatus::Serving,
        "the process itself stays alive (liveness)"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let failed_during_cut: Vec<Code> = outcomes
        .lock()
        .expect("outcomes")
        .values()
        .filter_map(|o| o.err())
        .collect();
    assert!(
        !failed_during_cut.is_empty(),
        "no call failed while the database was away"
    );
    assert!(
        failed_during_cut
            .iter()
            .all(|code| *code == Code::Unavailable),
        "calls must fail UNAVAILABLE (retry later): {failed_during_cut:?}"
    );

    proxy.restore();
    let recovered = wait_for_health(&app, ROSTER_SERVICE, ServingStatus::Serving).await;
    let after_restore = succeeded(&outcomes);
    let started = Instant::now();
    while succeeded(&outcomes) < after_restore + 10 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "calls did not succeed again after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send_replace(true);
    traffic.await.expect("traffic");
    eprintln!(
        "database away: health NOT_SERVING after {noticed:?}, SERVING {recovered:?} after it \
         returned; {} calls failed UNAVAILABLE while it was away",
        failed_during_cut.len()
    );

    // The callers retry what failed, with the same request ids: afterwards every create
    // exists once and every push is whole.
    let ids: Vec<String> = outcomes.lock().expect("outcomes").keys().cloned().collect();
    let failed: Vec<String> = outcomes
        .lock()
        .expect("outcomes")
        .iter()
        .filter(|(_, o)| o.is_err())
        .map(|(id, _)| id.clone())
        .collect();
    for id in &failed {
        let number: u64 = id.trim_start_matches("fault-").parse().expect("number");
        if number.is_multiple_of(2) {
            roster_call(&retry, &rosters, id)
                .await
                .expect("retried create");
        } else {
            push_call(&retry, &ingest, id).await.expect("retried push");
        }
    }
    let mut rosters = rosters;
    let stored = all_rosters(&mut rosters).await;
    let created: Vec<&String> = ids
        .iter()
        .filter(|id| {
            id.trim_start_matches("fault-")
                .parse::<u64>()
                .expect("n")
                .is_multiple_of(2)
        })
        .collect();
    assert_eq!(stored.len(), created.len(), "each create exactly once");
    let mut names: Vec<&str> = stored.iter().map(|r| r.display_name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), created.len(), "no create applied twice");
    for id in ids.iter().filter(|id| !created.contains(id)) {
        let handle = Handle::parse(id).expect("handle");
        let creator = app
            .store
            .creators()
            .find(CorePlatform::Instagram, &handle)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("{id}: pushed but not stored"));
        assert!(creator.profile.is_some(), "{id}: profile missing");
        assert_eq!(creator.stored_posts, 5, "{id}: a push is stored whole");
    }
    app.stop().await.expect("stops");
}

async fn roster_call(
    retry: &Retry,
    client: &RosterServiceClient<KeyedChannel>,
    id: &str,
) -> Result<(), Status> {
    retry
        .call(|| {
            let mut client = client.clone();
            let request = create_roster(id, id);
            async move { client.create_roster(request).await.map(drop) }
        })
        .await
}

async fn push_call(
    retry: &Retry,
    client: &IngestServiceClient<KeyedChannel>,
    id: &str,
) -> Result<(), Status> {
    retry
        .call(|| {
            let mut client = client.clone();
            let request = IngestRecordsRequest {
                request_id: id.to_owned(),
                source: "faults".to_owned(),
                records: creator_records(id),
            };
            async move {
                client
                    .ingest_records(futures::stream::iter([request]))
                    .await
                    .map(drop)
            }
        })
        .await
}
