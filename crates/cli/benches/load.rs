#![allow(
    unused_crate_dependencies,
    reason = "a bench links every dependency of the package"
)]

//! The load generator: drives each service at rising concurrency through the generated
//! clients and prints throughput, p50 and p99 per level, beside a bare tonic server (the gRPC
//! health service with no layers and no database) on the same machine as the baseline. Then it
//! overloads one service: the server's concurrency limit is set to the capacity the rising
//! levels found, the service is driven at twice that, and it reports what was accepted, what
//! was refused and how fast, the process's memory, and the first second after the load drops.
//!
//! `cargo bench -p resonance-cli --bench load` (release build; the platform runs in-process
//! on a scratch SQLite database, as `resonance up` does). Options after `--`:
//! `--seconds N` per level (default 2), `--levels 1,4,16` (default 1,2,4,8,16,32,64,128),
//! `--only NAME` to run one target. Results are recorded in bench/RESULTS.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use resonance_cli::app::{Application, Role};
use resonance_cli::config::Settings;
use resonance_cli::server::{ShutdownTrigger, shutdown_channel};
use resonance_proto::api_key::WithKey;
use resonance_proto::common::Platform;
use resonance_proto::ingest::ListIngestJobsRequest;
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::roster::roster_service_client::RosterServiceClient;
use resonance_proto::roster::{CreateRosterRequest, GetRosterRequest, Roster};
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{AccountData, Post, Profile, ScoreAccountRequest};
use resonance_proto::tonic::service::interceptor::InterceptedService;
use resonance_proto::tonic::transport::server::TcpIncoming;
use resonance_proto::tonic::transport::{Channel, Endpoint, Server};
use resonance_proto::tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

type Keyed = InterceptedService<Channel, WithKey>;

struct Options {
    seconds: f64,
    levels: Vec<usize>,
    only: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 2.0,
        levels: vec![1, 2, 4, 8, 16, 32, 64, 128],
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                options.seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seconds N")
            }
            "--levels" => {
                options.levels = args
                    .next()
                    .expect("--levels 1,2,4")
                    .split(',')
                    .map(|l| l.parse().expect("a level is a number"))
                    .collect()
            }
            "--only" => options.only = args.next(),
            // cargo bench passes --bench; anything else is not ours.
            _ => {}
        }
    }
    options
}

/// A running platform and what the targets need from it.
struct Running {
    scoring: SocketAddr,
    roster: SocketAddr,
    ingest: SocketAddr,
    metrics: SocketAddr,
    key: String,
    roster_name: String,
    trigger: ShutdownTrigger,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start_platform(max_concurrent_calls: usize) -> Running {
    let dir = tempfile::tempdir().expect("scratch directory");
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}", dir.path().join("load.db").display()).into();
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.scoring.listen = any;
    settings.roster.listen = any;
    settings.ingest.listen = any;
    settings.telemetry.metrics_listen = any;
    settings.ingest.worker.enabled = false;
    settings.server.max_concurrent_calls = max_concurrent_calls;
    settings.server.max_concurrent_streams = 1_024;
    let app = Application::build(settings, Role::All)
        .await
        .expect("platform starts");
    let address = |name| app.addr(name).expect("server bound");
    let (scoring, roster, ingest) = (address("scoring"), address("roster"), address("ingest"));
    let metrics = address("metrics");
    let (_brand, key) = app
        .store()
        .brands()
        .create("load", chrono::Utc::now())
        .await
        .expect("brand");
    let (trigger, shutdown) = shutdown_channel();
    let running = tokio::spawn(app.run_until_stopped(shutdown));
    let mut client = RosterServiceClient::new(keyed(&key.secret, roster).await);
    let created = client
        .create_roster(CreateRosterRequest {
            roster: Some(Roster {
                display_name: "load".to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("roster")
        .into_inner()
        .roster
        .expect("roster");
    Running {
        scoring,
        roster,
        ingest,
        metrics,
        key: key.secret,
        roster_name: created.name,
        trigger,
        running,
        _dir: dir,
    }
}

async fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect")
}

async fn keyed(key: &str, addr: SocketAddr) -> Keyed {
    InterceptedService::new(channel(addr).await, WithKey::new(key).expect("key"))
}

/// A bare tonic server: the health service alone, no layers, no database.
async fn bare_baseline() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        Server::builder()
            .add_service(health)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    addr
}

fn score_request(n: usize) -> ScoreAccountRequest {
    ScoreAccountRequest {
        account: Some(AccountData {
            profile: Some(Profile {
                platform: Platform::Instagram as i32,
                handle: format!("load.{n}"),
                followers: 42_000,
                following: 400,
                media_count: 300,
                has_profile_picture: true,
                ..Default::default()
            }),
            posts: (0..12)
                .map(|p| Post {
                    external_id: format!("p{p}"),
                    posted_time: Some(resonance_proto::prost_types::Timestamp {
                        seconds: 1_790_000_000 + p * 86_400,
                        nanos: 0,
                    }),
                    likes: Some(1_500 + p * 10),
                    comments: Some(40),
                    caption: "#food #recipe".to_owned(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        engagement_definition: None,
    }
}

/// One call of a target: `Ok` with whether it was accepted, or the status of a refusal.
type Call =
    Arc<dyn Fn(usize) -> futures::future::BoxFuture<'static, Result<(), Status>> + Send + Sync>;

async fn target(name: &str, platform: &Running, baseline: SocketAddr) -> Call {
    use futures::FutureExt as _;
    match name {
        "bare tonic (baseline)" => {
            let client = HealthClient::new(channel(baseline).await);
            Arc::new(move |_| {
                let mut client = client.clone();
                async move { client.check(HealthCheckRequest::default()).await.map(drop) }.boxed()
            })
        }
        "scoring.ScoreAccount" => {
            let client = ScoringServiceClient::new(keyed(&platform.key, platform.scoring).await);
            Arc::new(move |n| {
                let mut client = client.clone();
                async move { client.score_account(score_request(n % 100)).await.map(drop) }.boxed()
            })
        }
        "roster.GetRoster" => {
            let client = RosterServiceClient::new(keyed(&platform.key, platform.roster).await);
            let name = platform.roster_name.clone();
            Arc::new(move |_| {
                let mut client = client.clone();
                let request = GetRosterRequest { name: name.clone() };
                async move { client.get_roster(request).await.map(drop) }.boxed()
            })
        }
        "roster.CreateRoster" => {
            let client = RosterServiceClient::new(keyed(&platform.key, platform.roster).await);
            let run = uuid::Uuid::now_v7().simple().to_string();
            Arc::new(move |n| {
                let mut client = client.clone();
                let request = CreateRosterRequest {
                    roster: Some(Roster {
                        display_name: format!("load {n}"),
                        ..Default::default()
                    }),
                    request_id: format!("{run}-{n}"),
                };
                async move { client.create_roster(request).await.map(drop) }.boxed()
            })
        }
        "ingest.ListIngestJobs" => {
            let client = IngestServiceClient::new(keyed(&platform.key, platform.ingest).await);
            Arc::new(move |_| {
                let mut client = client.clone();
                async move {
                    client
                        .list_ingest_jobs(ListIngestJobsRequest::default())
                        .await
                        .map(drop)
                }
                .boxed()
            })
        }
        other => panic!("no target {other}"),
    }
}

#[derive(Default)]
struct Level {
    accepted: Vec<Duration>,
    refused: Vec<Duration>,
    failed: Vec<Code>,
    elapsed: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

/// `concurrency` workers, each calling back to back, for `seconds`.
async fn drive(call: &Call, concurrency: usize, seconds: f64) -> Level {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (call, stop) = (call.clone(), stop.clone());
            tokio::spawn(async move {
                let mut level = Level::default();
                let mut n = worker * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let at = Instant::now();
                    match call(n).await {
                        Ok(()) => level.accepted.push(at.elapsed()),
                        Err(status) if status.code() == Code::ResourceExhausted => {
                            level.refused.push(at.elapsed());
                            // A refused client backs off a little, as the retry policy would.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(status) => level.failed.push(status.code()),
                    }
                }
                level
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Level::default();
    for worker in workers {
        let level = worker.await.expect("worker");
        total.accepted.extend(level.accepted);
        total.refused.extend(level.refused);
        total.failed.extend(level.failed);
    }
    total.elapsed = started.elapsed();
    total.accepted.sort_unstable();
    total.refused.sort_unstable();
    total
}

/// The server's own latency histogram of one method and status code, from its `/metrics`:
/// (bucket upper bound in seconds, cumulative count) in bucket order.
async fn server_histogram(metrics: SocketAddr, method: &str, code: &str) -> Vec<(f64, u64)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(metrics)
        .await
        .expect("metrics port answers");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n")
        .await
        .expect("request sent");
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .await
        .expect("metrics read");
    let (code, method) = (format!("code=\"{code}\""), format!("method=\"{method}\""));
    text.lines()
        .filter_map(|line| line.strip_prefix("resonance_grpc_request_duration_seconds_bucket{"))
        .filter(|line| line.contains(code.as_str()) && line.contains(method.as_str()))
        .filter_map(|line| {
            let (_, bound) = line.split_once("le=\"")?;
            let (bound, _) = bound.split_once('"')?;
            let count = line.rsplit(' ').next()?.parse().ok()?;
            let bound = if bound == "+Inf" {
                f64::INFINITY
            } else {
                bound.parse().ok()?
            };
            Some((bound, count))
        })
        .collect()
}

/// The bucket bound under which a fraction `p` of the calls between two scrapes fell, as
/// "<= x ms" (a histogram knows no finer), or "-" when there were none.
fn server_quantile(before: &[(f64, u64)], after: &[(f64, u64)], p: f64) -> String {
    let count_before = |bound: f64| {
        before
            .iter()
            .find(|(b, _)| *b == bound)
            .map_or(0, |(_, c)| *c)
    };
    let deltas: Vec<(f64, u64)> = after
        .iter()
        .map(|&(bound, count)| (bound, count - count_before(bound)))
        .collect();
    let total = deltas.last().map_or(0, |(_, c)| *c);
    if total == 0 {
        return "-".to_owned();
    }
    let rank = (total as f64 * p).ceil() as u64;
    match deltas.iter().find(|(_, c)| *c >= rank) {
        Some((bound, _)) if bound.is_finite() => format!("<= {:.2}", bound * 1_000.0),
        _ => "> 26 s".to_owned(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1_000.0)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn print_row(name: &str, concurrency: usize, level: &Level) {
    let rate = level.accepted.len() as f64 / level.elapsed.as_secs_f64();
    println!(
        "| {name} | {concurrency} | {rate:.0} | {} | {} | {} | {} |",
        ms(percentile(&level.accepted, 0.5)),
        ms(percentile(&level.accepted, 0.99)),
        level.refused.len(),
        level.failed.len(),
    );
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(options));
}

async fn run(options: Options) {
    let targets = [
        "bare tonic (baseline)",
        "scoring.ScoreAccount",
        "roster.GetRoster",
        "roster.CreateRoster",
        "ingest.ListIngestJobs",
    ];
    let baseline = bare_baseline().await;
    let platform = start_platform(100_000).await;
    println!(
        "## Rising concurrency ({} s per level, in-process, SQLite)\n",
        options.seconds
    );
    println!("| target | concurrency | calls/s | p50 ms | p99 ms | refused | failed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut capacity_of_scoring = None;
    for name in targets {
        if options
            .only
            .as_deref()
            .is_some_and(|only| !name.contains(only))
        {
            continue;
        }
        let call = target(name, &platform, baseline).await;
        let mut best = (0.0_f64, 1_usize);
        let mut rates = Vec::new();
        for &concurrency in &options.levels {
            let level = drive(&call, concurrency, options.seconds).await;
            print_row(name, concurrency, &level);
            let rate = level.accepted.len() as f64 / level.elapsed.as_secs_f64();
            rates.push((concurrency, rate));
            if rate > best.0 {
                best = (rate, concurrency);
            }
        }
        // Capacity: the lowest concurrency within 95% of the best throughput.
        let knee = rates
            .iter()
            .find(|(_, rate)| *rate >= best.0 * 0.95)
            .map_or(best.1, |(c, _)| *c);
        println!("| {name}: capacity | {knee} | {:.0} | | | | |", best.0);
        if name == "scoring.ScoreAccount" {
            capacity_of_scoring = Some(knee);
        }
    }
    platform.trigger.trigger();
    let _ = platform.running.await;

    // Overload: the limit at the capacity found, the load at twice it.
    let Some(capacity) = capacity_of_scoring else {
        return;
    };
    let capacity = capacity.max(2);
    let platform = start_platform(capacity).await;
    let call = target("scoring.ScoreAccount", &platform, baseline).await;
    println!(
        "\n## Overload: scoring.ScoreAccount, server.max_concurrent_calls = {capacity} (the capacity found)\n"
    );
    println!(
        "Latency as the clients saw it, then as the server measured it (its own histogram, from \
         the first byte of the call to its answer, in buckets).\n"
    );
    println!(
        "| phase | concurrency | accepted/s | accepted p50 ms | accepted p99 ms | refused | refused p50 ms | refused p99 ms | failed | RSS MB | server: accepted p99 ms | server: refused p50 ms | server: refused p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let method = "resonance.scoring.v1.ScoringService/ScoreAccount";
    for (phase, concurrency) in [
        ("at capacity", capacity),
        ("twice capacity", capacity * 2),
        ("four times capacity", capacity * 4),
        ("load drops: first second", capacity),
    ] {
        let seconds = if phase.starts_with("load drops") {
            1.0
        } else {
            options.seconds
        };
        let ok = server_histogram(platform.metrics, method, "Ok").await;
        let refused = server_histogram(platform.metrics, method, "ResourceExhausted").await;
        let level = drive(&call, concurrency, seconds).await;
        let ok_after = server_histogram(platform.metrics, method, "Ok").await;
        let refused_after = server_histogram(platform.metrics, method, "ResourceExhausted").await;
        println!(
            "| {phase} | {concurrency} | {:.0} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} |",
            level.accepted.len() as f64 / level.elapsed.as_secs_f64(),
            ms(percentile(&level.accepted, 0.5)),
            ms(percentile(&level.accepted, 0.99)),
            level.refused.len(),
            ms(percentile(&level.refused, 0.5)),
            ms(percentile(&level.refused, 0.99)),
            level.failed.len(),
            rss_mb(),
            server_quantile(&ok, &ok_after, 0.99),
            server_quantile(&refused, &refused_after, 0.5),
            server_quantile(&refused, &refused_after, 0.99),
        );
    }
    platform.trigger.trigger();
    let _ = platform.running.await;
}
