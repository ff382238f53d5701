#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The NATS JetStream ingestion worker, against the real NATS server: records published to
//! the stream end up in the store exactly once, bad lines are dead-lettered with their
//! position, and a missing NATS server does not stop the rest of the platform.
//!
//! Uses RESONANCE_TEST_NATS_URL (CI sets it); without it, tries nats://127.0.0.1:4222 and
//! skips, saying so, when nothing answers there.

use std::time::Duration;

use async_nats::jetstream;
use resonance_core::{Handle, Platform};
use resonance_store::testing::Backend;
use resonance_tests::TestApp;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const PROFILE: &str = r#"{"type":"profile","platform":"instagram","handle":"queue.chef","followers":42000,"following":300,"media_count":80,"observed_time":"2026-11-01T00:00:00Z"}"#;
const POST_1: &str = r#"{"type":"post","platform":"instagram","handle":"queue.chef","external_id":"q1","posted_time":"2026-10-30T12:00:00Z","likes":1200,"comments":30}"#;
const POST_2: &str = r#"{"type":"post","platform":"instagram","handle":"queue.chef","external_id":"q2","posted_time":"2026-10-31T12:00:00Z","likes":900,"comments":25}"#;
const BAD: &str = r#"{"type":"post","platform":"instagram","handle":"queue.chef","external_id":"q3","posted_time":"2026-10-31T12:00:00Z","likes":-5}"#;

async fn nats() -> Option<(String, async_nats::Client)> {
    let required = std::env::var("RESONANCE_TEST_NATS_URL").ok();
    let url = required
        .clone()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
    match async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(3))
        .connect(&url)
        .await
    {
        Ok(client) => Some((url, client)),
        Err(error) if required.is_none() => {
            eprintln!("SKIPPED: no NATS server at {url} ({error}); set RESONANCE_TEST_NATS_URL");
            None
        }
        Err(error) => panic!("RESONANCE_TEST_NATS_URL={url} is unreachable: {error}"),
    }
}

/// Waits until the consumer has nothing pending or unacknowledged.
async fn drained(context: &jetstream::Context, stream: &str, consumer: &str) {
    drained_within(context, stream, consumer, Duration::from_secs(10)).await;
}

async fn drained_within(
    context: &jetstream::Context,
    stream: &str,
    consumer: &str,
    limit: Duration,
) {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Ok(mut consumer) = context
            .get_consumer_from_stream::<jetstream::consumer::pull::Config, _, _>(consumer, stream)
            .await
            && let Ok(info) = consumer.info().await
            && info.num_pending == 0
            && info.num_ack_pending == 0
            && info.delivered.stream_sequence > 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the worker did not drain {stream}/{consumer} within {limit:?}");
}

#[tokio::test]
async fn published_records_are_stored_once_and_bad_lines_dead_lettered() {
    let Some((url, client)) = nats().await else {
        return;
    };
    for backend in resonance_tests::backends() {
        consume_on(backend, &url, client.clone()).await;
    }
}

/// An application whose worker consumes a stream of its own from NATS at `worker_url`, with
/// `adjust` applied to the worker's settings; returns it once the worker created the stream.
struct Consuming {
    app: TestApp,
    context: jetstream::Context,
    stream: String,
    subject: String,
    consumer: String,
}

async fn consuming(
    backend: Backend,
    worker_url: &str,
    client: async_nats::Client,
    adjust: impl FnOnce(&mut resonance_ingest::WorkerConfig),
) -> Consuming {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let stream = format!("RESONANCE_TEST_{id}");
    let subject = format!("resonance.test.{id}.records");
    let consumer = "resonance-ingest-test".to_owned();
    let app = TestApp::spawn_with(backend, |s| {
        let worker = &mut s.ingest.worker;
        worker.enabled = true;
        worker.url = worker_url.to_owned().into();
        worker.stream = stream.clone();
        worker.subjects = vec![subject.clone()];
        worker.consumer = consumer.clone();
        worker.retry_delay = Duration::from_millis(200);
        adjust(worker);
    })
    .await
    .expect("app starts");
    let context = jetstream::new(client);
    // The worker creates the stream; wait for it before publishing.
    for _ in 0..100 {
        if context.get_stream(&stream).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Consuming {
        app,
        context,
        stream,
        subject,
        consumer,
    }
}

async fn consume_on(backend: Backend, url: &str, client: async_nats::Client) {
    let Consuming {
        app,
        context,
        stream,
        subject,
        consumer,
    } = consuming(backend, url, client, |_| {}).await;

    // Posts before their profile, a bad line among good ones, and a duplicate message.
    let messages = [
        format!("{POST_1}\n{POST_2}"),
        format!("{BAD}\n{PROFILE}\n"),
        format!("{POST_1}\n{POST_2}"),
    ];
    for message in messages {
        context
            .publish(subject.clone(), message.into())
            .await
            .expect("publish")
            .await
            .expect("stored by JetStream");
    }
    drained(&context, &stream, &consumer).await;

    let handle = Handle::parse("queue.chef").expect("handle");
    let creator = app
        .store
        .creators()
        .find(Platform::Instagram, &handle)
        .await
        .expect("read")
        .expect("creator stored");
    assert_eq!(creator.profile.expect("profile").followers, 42_000);
    assert_eq!(
        creator.stored_posts, 2,
        "the duplicate message added nothing"
    );
    assert_eq!(app.store.creators().count_posts().await.expect("count"), 2);

    let letters = app
        .store
        .ingest()
        .list_dead_letters(None, None, None, 10)
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].source, format!("nats:{stream}"));
    assert_eq!(letters[0].position, "message 2 line 1");
    assert!(letters[0].field.contains("likes"), "{:?}", letters[0]);

    app.stop().await.expect("stops");
    context.delete_stream(&stream).await.expect("delete stream");
}

#[tokio::test]
async fn without_a_nats_server_the_services_still_serve_and_stop() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        let worker = &mut s.ingest.worker;
        worker.enabled = true;
        // Nothing listens on port 1.
        worker.url = "nats://127.0.0.1:1".to_owned().into();
        worker.retry_delay = Duration::from_millis(100);
    })
    .await
    .expect("app starts without NATS");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut health = HealthClient::new(app.channel(app.ingest).await.expect("connect"));
    let status = health
        .check(HealthCheckRequest {
            service: "resonance.ingest.v1.IngestService".to_owned(),
        })
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    tokio::time::timeout(Duration::from_secs(5), app.stop())
        .await
        .expect("the retrying worker does not hold up shutdown")
        .expect("stops");
}

#[tokio::test]
async fn when_nats_goes_away_the_worker_reconnects_and_nothing_is_lost_or_applied_twice() {
    let Some((url, client)) = nats().await else {
        return;
    };
    for backend in resonance_tests::backends() {
        survive_nats_outage(backend, &url, client.clone()).await;
    }
}

async fn survive_nats_outage(backend: Backend, url: &str, client: async_nats::Client) {
    use resonance_tests::proxy::{TcpProxy, url_address, url_via};

    let proxy = TcpProxy::start(url_address(url).expect("NATS address"))
        .await
        .expect("proxy");
    let via_proxy = url_via(url, proxy.addr).expect("url");
    let Consuming {
        app,
        context,
        stream,
        subject,
        consumer,
    } = consuming(backend, &via_proxy, client, |worker| {
        // A message whose acknowledgement was lost in the cut is redelivered after this.
        worker.ack_wait = Duration::from_secs(2);
    })
    .await;

    // A profile and 60 posts, one message each; the worker's connection is cut after the
    // 20th and restored after the 40th, while the publisher (connected directly) goes on.
    let post = |n: u32| {
        format!(
            r#"{{"type":"post","platform":"instagram","handle":"queue.outage","external_id":"o{n}","posted_time":"2026-10-30T12:00:00Z","likes":{},"comments":3}}"#,
            1_000 + n
        )
    };
    let profile = r#"{"type":"profile","platform":"instagram","handle":"queue.outage","followers":30000,"following":100,"media_count":60,"observed_time":"2026-11-01T00:00:00Z"}"#;
    let publish = |message: String| {
        let context = context.clone();
        let subject = subject.clone();
        async move {
            context
                .publish(subject, message.into())
                .await
                .expect("publish")
                .await
                .expect("stored by JetStream");
        }
    };
    publish(profile.to_owned()).await;
    for n in 1..=60 {
        if n == 21 {
            proxy.cut();
        }
        if n == 41 {
            tokio::time::sleep(Duration::from_millis(1_000)).await;
            proxy.restore();
        }
        publish(post(n)).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let restored = std::time::Instant::now();
    drained_within(&context, &stream, &consumer, Duration::from_secs(60)).await;
    eprintln!(
        "{backend:?}: NATS away for 1 s; the worker drained the stream {:?} after it returned",
        restored.elapsed()
    );

    let handle = Handle::parse("queue.outage").expect("handle");
    let creator = app
        .store
        .creators()
        .find(Platform::Instagram, &handle)
        .await
        .expect("read")
        .expect("creator stored");
    assert_eq!(creator.profile.expect("profile").followers, 30_000);
    assert_eq!(creator.stored_posts, 60, "{backend:?}: every post once");
    assert_eq!(app.store.creators().count_posts().await.expect("count"), 60);
    let posts = app
        .store
        .creators()
        .latest_posts(creator.id, 100)
        .await
        .expect("posts");
    for stored in &posts {
        let n: u32 = stored
            .external_id
            .trim_start_matches('o')
            .parse()
            .expect("id");
        assert_eq!(
            stored.likes,
            Some(u64::from(1_000 + n)),
            "{backend:?}: {stored:?}"
        );
    }
    let letters = app
        .store
        .ingest()
        .list_dead_letters(None, None, None, 10)
        .await
        .expect("dead letters");
    assert!(letters.is_empty(), "{backend:?}: {letters:?}");

    app.stop().await.expect("stops");
    context.delete_stream(&stream).await.expect("delete stream");
}
