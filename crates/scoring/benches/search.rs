//! SearchCreators over 100,000 stored creators on SQLite, through gRPC: p50 and p99 latency
//! per query shape.
//!
//! `cargo bench -p resonance-scoring --bench search [-- CREATORS]` (default 100,000). The
//! creators are stored with real scores from the engine (profiles through the repository, so
//! the rows are what ingestion writes); the timed part is only the searches.

#![allow(
    unused_crate_dependencies,
    reason = "a bench target links every dependency of the library"
)]

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use resonance_core::{AccountData, ContentFormat, Handle, Platform, Post, Profile};
use resonance_proto::common::{FollowerRange, Money, Platform as PbPlatform, Tier};
use resonance_proto::scoring::SearchCreatorsRequest;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::search_creators_request::SortBy;

const NICHE_CAPTIONS: [&str; 6] = [
    "#recipe #foodie dinner",
    "#travel #wanderlust",
    "#workout #gym",
    "#fashion #ootd",
    "#startup #entrepreneur",
    "#skincare #makeup",
];
const COUNTRIES: [&str; 5] = ["US", "DE", "BR", "IN", "GB"];

fn account(i: u64, now: chrono::DateTime<Utc>) -> AccountData {
    // Followers log-uniform-ish from 2k to 5M.
    let followers = (2_000.0 * 2_500f64.powf((i * 7_919 % 10_007) as f64 / 10_007.0)) as u64;
    let rate = 0.004 + ((i * 104_729) % 1_000) as f64 / 20_000.0;
    AccountData {
        profile: Profile {
            platform: if i.is_multiple_of(7) {
                Platform::TikTok
            } else {
                Platform::Instagram
            },
            handle: Handle::parse(&format!("creator.{i}")).expect("valid handle"),
            external_id: None,
            display_name: String::new(),
            bio: String::new(),
            followers,
            following: 200 + i % 2_000,
            media_count: 300,
            verified: false,
            is_private: false,
            has_profile_picture: true,
            country: Some(COUNTRIES[(i % 5) as usize].to_owned()),
            language: Some(if i.is_multiple_of(3) { "de" } else { "en" }.to_owned()),
            categories: vec![],
            observed_at: now,
        },
        snapshots: vec![],
        posts: (0..12)
            .map(|p| {
                Post {
                    external_id: format!("p{p}"),
                    posted_at: now - TimeDelta::days(p + 1),
                    format: ContentFormat::Post,
                    likes: Some((followers as f64 * rate * 0.95) as u64),
                    comments: Some((followers as f64 * rate * 0.05) as u64),
                    shares: None,
                    saves: None,
                    views: None,
                    caption: NICHE_CAPTIONS[((i + p as u64 / 6) % 6) as usize].to_owned(),
                    hashtags: vec![],
                    mentions: vec![],
                    paid_partnership: false,
                    url: None,
                }
                .with_tags_from_caption()
            })
            .collect(),
        follower_sample: vec![],
    }
}

fn shapes() -> Vec<(&'static str, SearchCreatorsRequest)> {
    let usd = |units| Money {
        currency_code: "USD".to_owned(),
        units,
        nanos: 0,
    };
    vec![
        ("no filter, by value", SearchCreatorsRequest::default()),
        (
            "niche + tier, by engagement",
            SearchCreatorsRequest {
                niches: vec!["food".to_owned()],
                tiers: vec![Tier::Micro as i32],
                sort_by: SortBy::Engagement as i32,
                ..Default::default()
            },
        ),
        (
            "country + authenticity + price",
            SearchCreatorsRequest {
                countries: vec!["DE".to_owned()],
                min_authenticity: 80.0,
                max_post_price: Some(usd(1_000)),
                ..Default::default()
            },
        ),
        (
            "follower range, by followers",
            SearchCreatorsRequest {
                followers: Some(FollowerRange {
                    min_followers: 50_000,
                    max_followers: 100_000,
                }),
                sort_by: SortBy::Followers as i32,
                ..Default::default()
            },
        ),
        (
            "platform + language + top decile",
            SearchCreatorsRequest {
                platforms: vec![PbPlatform::Tiktok as i32],
                languages: vec!["de".to_owned()],
                min_engagement_percentile: 90.0,
                sort_by: SortBy::Authenticity as i32,
                ..Default::default()
            },
        ),
        (
            "rare niche (no match), by value",
            SearchCreatorsRequest {
                niches: vec!["pets".to_owned()],
                ..Default::default()
            },
        ),
    ]
}

#[tokio::main]
async fn main() {
    let creators: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    // BENCH_DB_DIR keeps the database for inspection (EXPLAIN QUERY PLAN ...).
    let keep = std::env::var_os("BENCH_DB_DIR").map(std::path::PathBuf::from);
    let store = common::scratch_store(keep.as_deref().unwrap_or(dir.path())).await;
    let engine = common::engine();
    let now = Utc::now();

    let loading = Instant::now();
    for chunk in (0..creators).collect::<Vec<_>>().chunks(5_000) {
        let accounts: Vec<AccountData> = chunk.iter().map(|i| account(*i, now)).collect();
        let profiles: Vec<Profile> = accounts.iter().map(|a| a.profile.clone()).collect();
        store
            .creators()
            .upsert_profiles(&profiles, now)
            .await
            .expect("profiles");
        let mut records = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let id = store
                .creators()
                .find(account.profile.platform, &account.profile.handle)
                .await
                .expect("find")
                .expect("stored")
                .id;
            let score = engine.score(account, None, now).expect("valid account");
            records.push(engine.record(
                id,
                account.profile.country.clone(),
                account.profile.language.clone(),
                &score,
            ));
        }
        store
            .scores()
            .save(&records, &[])
            .await
            .expect("save scores");
    }
    let due = store.scores().claim(u64::MAX >> 1).await.expect("claim");
    store.scores().finish(&due).await.expect("clear the queue");
    println!(
        "stored {creators} scored creators in {:.1}s",
        loading.elapsed().as_secs_f64()
    );

    let addr = common::serve(common::scoring_api(store.clone(), engine.clone())).await;
    if std::env::var_os("BENCH_STORE_ONLY").is_some() {
        let model = engine.model();
        for (name, request) in shapes() {
            let query = resonance_scoring::search::query(
                &request,
                |id| model.niches().ids().any(|k| k == id),
                "USD",
            )
            .expect("valid");
            let started = Instant::now();
            for _ in 0..20 {
                store.scores().search(&query).await.expect("search");
            }
            println!(
                "store only: {name}: {:.2} ms",
                started.elapsed().as_secs_f64() * 50.0
            );
        }
    }
    let mut client = ScoringServiceClient::new(common::channel(addr).await)
        .max_decoding_message_size(common::MAX_MESSAGE_BYTES);
    const RUNS: usize = 200;
    let mut all = Vec::new();
    println!(
        "{:<36} {:>9} {:>9} {:>9} {:>7}",
        "query (page_size 50)", "p50 ms", "p99 ms", "max ms", "hits"
    );
    for (name, request) in shapes() {
        let mut hits = 0;
        // The first page and, where there is one, the next page by token, alternately.
        let first = client
            .search_creators(request.clone())
            .await
            .expect("search")
            .into_inner();
        let second = SearchCreatorsRequest {
            page_token: first.next_page_token.clone(),
            ..request.clone()
        };
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        for run in 0..RUNS {
            let request = if run % 2 == 1 && !first.next_page_token.is_empty() {
                second.clone()
            } else {
                request.clone()
            };
            let started = Instant::now();
            let page = client
                .search_creators(request)
                .await
                .expect("search")
                .into_inner();
            times.push(started.elapsed());
            hits = page.creators.len();
        }
        times.sort();
        println!(
            "{:<36} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            name,
            common::percentile_ms(&times, 50.0),
            common::percentile_ms(&times, 99.0),
            common::percentile_ms(&times, 100.0),
            hits
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{:<36} {:>9.2} {:>9.2} {:>9.2}   (target: p99 under 50 ms)",
        "all queries",
        common::percentile_ms(&all, 50.0),
        common::percentile_ms(&all, 99.0),
        common::percentile_ms(&all, 100.0)
    );
}
