#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Nothing lost, nothing doubled: the ingestion worker (`resonance ingest`) is killed with
//! SIGKILL several times while it consumes a large NATS JetStream backlog, restarted each time,
//! and at the end the database holds every record exactly once.
//!
//! Uses RESONANCE_TEST_NATS_URL (CI sets it); without it, tries nats://127.0.0.1:4222 and
//! skips, saying so, when nothing answers there.

use std::process::Stdio;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use resonance_core::{Handle, Platform};
use resonance_store::{DatabaseConfig, Store};
use tokio::process::{Child, Command};

const ACCOUNTS: usize = 40;
const MESSAGES: usize = 400;
const POSTS_PER_MESSAGE: usize = 50;

fn message(index: usize) -> String {
    let mut lines = Vec::with_capacity(POSTS_PER_MESSAGE + 1);
    let account = index % ACCOUNTS;
    if index < ACCOUNTS {
        lines.push(format!(
            r#"{{"type":"profile","platform":"instagram","handle":"kill{account}","followers":{},"observed_time":"2026-11-01T00:00:00Z"}}"#,
            20_000 + account
        ));
    }
    for n in 0..POSTS_PER_MESSAGE {
        let id = index * POSTS_PER_MESSAGE + n;
        lines.push(format!(
            r#"{{"type":"post","platform":"instagram","handle":"kill{account}","external_id":"k{id}","posted_time":"2026-10-15T12:00:00Z","likes":{},"comments":3,"observed_time":"2026-11-01T00:00:00Z"}}"#,
            id % 1000
        ));
    }
    lines.join("\n")
}

fn worker(database: &str, url: &str, stream: &str, subject: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_resonance"))
        .arg("ingest")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RESONANCE__DATABASE__URL", database)
        .env("RESONANCE__TELEMETRY__METRICS_LISTEN", "127.0.0.1:0")
        .env("RESONANCE__INGEST__LISTEN", "127.0.0.1:0")
        .env("RESONANCE__INGEST__WORKER__URL", url)
        .env("RESONANCE__INGEST__WORKER__STREAM", stream)
        .env("RESONANCE__INGEST__WORKER__SUBJECTS", subject)
        .env("RESONANCE__INGEST__WORKER__CONSUMER", "killed-worker")
        .env("RESONANCE__INGEST__WORKER__BATCH_SIZE", "20")
        // Redeliver quickly what a killed worker held.
        .env("RESONANCE__INGEST__WORKER__ACK_WAIT", "2s")
        .env("RESONANCE__INGEST__WORKER__RETRY_DELAY", "200ms")
        .env("RESONANCE__TELEMETRY__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

async fn stored_posts(database: &str) -> u64 {
    let config = DatabaseConfig::with_url(database);
    match Store::connect(&config).await {
        Ok(store) => {
            let count = store.creators().count_posts().await.unwrap_or(0);
            let _ = store.close().await;
            count
        }
        Err(_) => 0,
    }
}

#[tokio::test]
async fn a_worker_killed_repeatedly_mid_backlog_stores_every_record_exactly_once() {
    let required = std::env::var("RESONANCE_TEST_NATS_URL").ok();
    let url = required
        .clone()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
    let client = match async_nats::connect(&url).await {
        Ok(client) => client,
        Err(error) if required.is_none() => {
            eprintln!("SKIPPED: no NATS server at {url} ({error}); set RESONANCE_TEST_NATS_URL");
            return;
        }
        Err(error) => panic!("RESONANCE_TEST_NATS_URL={url} is unreachable: {error}"),
    };
    let id = uuid::Uuid::now_v7().simple().to_string();
    let stream = format!("RESONANCE_KILL_{id}");
    let subject = format!("resonance.kill.{id}");
    let context = jetstream::new(client);
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .expect("stream");
    for index in 0..MESSAGES {
        context
            .publish(subject.clone(), message(index).into())
            .await
            .expect("publish")
            .await
            .expect("stored by JetStream");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("resonance.db").display());
    let expected = (MESSAGES * POSTS_PER_MESSAGE) as u64;

    // Kill it three times, each time once it has stored more than before.
    let mut kills = 0;
    let mut last = 0;
    while kills < 3 {
        let mut child = worker(&database, &url, &stream, &subject);
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let stored = stored_posts(&database).await;
            if stored > last || started.elapsed() > Duration::from_secs(30) {
                last = stored;
                break;
            }
        }
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reaped");
        kills += 1;
        assert!(
            last < expected,
            "the backlog drained before kill {kills}; make it larger"
        );
    }

    // A last run drains the rest.
    let mut child = worker(&database, &url, &stream, &subject);
    let started = Instant::now();
    while stored_posts(&database).await < expected {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} of {expected} posts after 120s",
            stored_posts(&database).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let redeliveries of what the killed workers held settle, then check nothing doubled.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id().expect("running").to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;

    let store = Store::connect(&DatabaseConfig::with_url(&database))
        .await
        .expect("open");
    assert_eq!(
        store.creators().count_posts().await.expect("count"),
        expected
    );
    assert_eq!(
        store.creators().count().await.expect("count"),
        ACCOUNTS as u64
    );
    let account = store
        .creators()
        .find(
            Platform::Instagram,
            &Handle::parse("kill7").expect("handle"),
        )
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(account.profile.expect("profile").followers, 20_007);
    assert_eq!(
        account.stored_posts,
        (MESSAGES / ACCOUNTS * POSTS_PER_MESSAGE) as u64
    );
    store.close().await.expect("close");
    context.delete_stream(&stream).await.expect("delete stream");
}
