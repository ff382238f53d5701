#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Discovery: ingested creators are scored in the background, found by search with filters and
//! stable pages, and rescored when their data changes; streams score in order and report bad
//! items without stopping.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Duration;

use futures::StreamExt;
use resonance_proto::common::{CreatorRef, FollowerRange, Money, Platform, Tier};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::{IngestRecordsRequest, PostRecord, Record, record::Kind};
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::search_creators_request::SortBy;
use resonance_proto::scoring::{
    AccountData, Creator, GetCreatorRequest, Post, Profile, SearchCreatorsRequest,
    StreamScoreAccountsRequest, get_creator_request, stream_score_accounts_response,
};
use resonance_proto::tonic::Code;
use resonance_tests::{KeyedChannel, TestApp, backends};

const NICHES: [(&str, &str); 3] = [
    ("food", "#recipe #foodie dinner tonight"),
    ("travel", "#travel #wanderlust new city"),
    ("fitness", "#workout #gym leg day"),
];

/// 60 creators, 20 per niche, 12 posts each, followers from 5k to 1.2M, engagement varying.
fn population() -> String {
    let mut lines = String::new();
    for i in 0..60_u32 {
        let (niche, caption) = NICHES[(i % 3) as usize];
        let followers = 5_000 + u64::from(i) * 20_000;
        let country = if i % 2 == 0 { "US" } else { "Germany" };
        let _ = writeln!(
            lines,
            r#"{{"type":"profile","platform":"instagram","handle":"{niche}.{i}","followers":{followers},"following":300,"media_count":200,"country":"{country}","observed_time":"2026-11-01T00:00:00Z"}}"#
        );
        // Rate from 0.5% to 6.4% of followers, comments at 5% of likes.
        let interactions = followers * u64::from(5 + i) / 1_000;
        for day in 1..=12_u32 {
            let likes = interactions * 95 / 100;
            let comments = interactions - likes;
            let _ = writeln!(
                lines,
                r#"{{"type":"post","platform":"instagram","handle":"{niche}.{i}","external_id":"p{day}","posted_time":"2026-10-{day:02}T12:00:00Z","likes":{likes},"comments":{comments},"caption":"{caption}"}}"#
            );
        }
    }
    lines
}

/// Waits until the background rescorer has nothing left to do: the queue stays empty for a
/// quarter of a second (after a drain the rescorer may queue everyone once more to rank them
/// against the grown population).
async fn rescored(app: &TestApp) {
    let mut empty_polls = 0;
    for _ in 0..600 {
        let lag = app.store.scores().lag().await.expect("queue readable");
        empty_polls = if lag.pending == 0 { empty_polls + 1 } else { 0 };
        if empty_polls == 5 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("rescoring did not catch up within 30s");
}

fn score_of(creator: &Creator) -> &resonance_proto::scoring::CreatorScore {
    creator
        .score
        .as_ref()
        .expect("a stored creator has a score")
}

async fn all_pages(
    scoring: &mut ScoringServiceClient<KeyedChannel>,
    mut request: SearchCreatorsRequest,
) -> Vec<Creator> {
    let mut found = Vec::new();
    loop {
        let page = scoring
            .search_creators(request.clone())
            .await
            .expect("search answers")
            .into_inner();
        assert!(page.creators.len() <= request.page_size as usize);
        found.extend(page.creators);
        if page.next_page_token.is_empty() {
            return found;
        }
        request.page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn ingested_creators_are_scored_in_the_background_and_found_by_search() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.scoring.rescore.idle_interval = Duration::from_millis(20);
        })
        .await
        .expect("app starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("population.jsonl");
        std::fs::write(&file, population()).expect("write file");
        resonance_ingest::import_jsonl(&app.store, &file, |_| {})
            .await
            .expect("import runs");
        rescored(&app).await;

        let mut scoring =
            ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));

        // Food micro creators, by engagement, 7 to a page: every page in order, none twice.
        let request = SearchCreatorsRequest {
            niches: vec!["food".to_owned()],
            tiers: vec![Tier::Micro as i32],
            sort_by: SortBy::Engagement as i32,
            page_size: 7,
            ..Default::default()
        };
        let found = all_pages(&mut scoring, request.clone()).await;
        // Food creators are i = 0, 3, ..., 57; micro (10k-500k followers) are i = 3..=24.
        let expected: HashSet<String> = (0..60)
            .filter(|i| i % 3 == 0)
            .filter(|i| (10_000..500_000).contains(&(5_000 + i * 20_000)))
            .map(|i| format!("food.{i}"))
            .collect();
        let handles: HashSet<String> = found.iter().map(|c| c.handle.clone()).collect();
        assert_eq!(handles, expected, "{backend:?}");
        assert_eq!(found.len(), expected.len(), "no creator twice");
        let percentiles: Vec<f64> = found
            .iter()
            .map(|c| {
                score_of(c)
                    .peer_percentile
                    .as_ref()
                    .expect("ranked")
                    .percentile
            })
            .collect();
        assert!(
            percentiles.windows(2).all(|w| w[0] >= w[1]),
            "best engagement first: {percentiles:?}"
        );
        for creator in &found {
            let score = score_of(creator);
            assert_eq!(score.tier, Tier::Micro as i32);
            assert_eq!(
                score.niches[0].niche.as_ref().map(|n| n.id.as_str()),
                Some("food")
            );
        }

        // Price, followers and country filters; the default sort is value, best first.
        let cheap = all_pages(
            &mut scoring,
            SearchCreatorsRequest {
                max_post_price: Some(Money {
                    currency_code: "USD".to_owned(),
                    units: 1_500,
                    nanos: 0,
                }),
                followers: Some(FollowerRange {
                    min_followers: 20_000,
                    max_followers: 0,
                }),
                countries: vec!["DE".to_owned()],
                page_size: 100,
                ..Default::default()
            },
        )
        .await;
        assert!(!cheap.is_empty());
        for creator in &cheap {
            let value = score_of(creator).value.as_ref().expect("value");
            let post = value.prices[0].price.as_ref().expect("price");
            assert!(post.units <= 1_500, "{post:?}");
            assert!(creator.followers >= 20_000 && creator.country == "DE");
        }
        let values: Vec<f64> = cheap
            .iter()
            .map(|c| {
                let value = score_of(c).value.as_ref().expect("value");
                let price = value.prices[0].price.as_ref().expect("price");
                value.expected_engagements / (price.units as f64 + f64::from(price.nanos) / 1e9)
            })
            .collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1] - 1e-9), "{values:?}");

        // A token is refused with other filters, naming the field.
        let first = scoring
            .search_creators(request.clone())
            .await
            .expect("search")
            .into_inner();
        let error = scoring
            .search_creators(SearchCreatorsRequest {
                niches: vec!["travel".to_owned()],
                page_token: first.next_page_token,
                ..request.clone()
            })
            .await
            .expect_err("foreign token");
        assert_eq!(error.code(), Code::InvalidArgument);
        assert!(
            error.message().contains("page_token"),
            "{}",
            error.message()
        );
        let error = scoring
            .search_creators(SearchCreatorsRequest {
                niches: vec!["knitting".to_owned()],
                ..Default::default()
            })
            .await
            .expect_err("unknown niche");
        assert!(error.message().contains("niches[0]"), "{}", error.message());

        // The stored score carries its explanation, peer group and value.
        let reference = CreatorRef {
            platform: Platform::Instagram as i32,
            handle: "food.12".to_owned(),
        };
        let get = GetCreatorRequest {
            creator: Some(get_creator_request::Creator::Ref(reference.clone())),
        };
        let creator = scoring
            .get_creator(get.clone())
            .await
            .expect("get")
            .into_inner()
            .creator
            .expect("creator");
        let score = score_of(&creator).clone();
        let peer = score.peer_percentile.as_ref().expect("ranked");
        assert!(peer.peer_group.starts_with("instagram/micro/"), "{peer:?}");
        assert!(peer.peer_group.ends_with("/food"), "{peer:?}");
        let authenticity = score.authenticity.as_ref().expect("authenticity");
        assert!(authenticity.score > 0.0 && authenticity.score <= 100.0);
        assert!(
            score
                .explanation
                .iter()
                .any(|f| f.name == "engagement.peer_percentile")
        );
        assert_eq!(score.sample_posts, 12);
        let old_rate = score.engagement.as_ref().expect("engagement").median_rate;

        // New posts with ten times the engagement: the stored score follows.
        let mut ingest = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
        let followers = 5_000 + 12 * 20_000_i64;
        let records: Vec<Record> = (13..=24)
            .map(|day| Record {
                kind: Some(Kind::Post(PostRecord {
                    account: Some(reference.clone()),
                    post: Some(Post {
                        external_id: format!("p{day}"),
                        posted_time: Some(resonance_proto::prost_types::Timestamp {
                            seconds: 1_792_000_000 + i64::from(day) * 3_600,
                            nanos: 0,
                        }),
                        likes: Some(followers / 5),
                        comments: Some(followers / 100),
                        caption: "#recipe".to_owned(),
                        ..Default::default()
                    }),
                    observed_time: None,
                })),
            })
            .collect();
        ingest
            .ingest_records(futures::stream::iter([IngestRecordsRequest {
                request_id: "more-posts".to_owned(),
                source: "test".to_owned(),
                records,
            }]))
            .await
            .expect("push");
        rescored(&app).await;
        let creator = scoring
            .get_creator(get)
            .await
            .expect("get")
            .into_inner()
            .creator
            .expect("creator");
        let new_rate = score_of(&creator)
            .engagement
            .as_ref()
            .expect("engagement")
            .median_rate;
        assert!(
            (new_rate - 0.21).abs() < 1e-3 && new_rate > 5.0 * old_rate,
            "{old_rate} -> {new_rate}"
        );
        app.stop().await.expect("clean stop");
    }
}

fn account(handle: &str, followers: i64, posted_seconds: i64) -> AccountData {
    AccountData {
        profile: Some(Profile {
            platform: Platform::Instagram as i32,
            handle: handle.to_owned(),
            followers,
            following: 200,
            ..Default::default()
        }),
        posts: (0..12)
            .map(|i| Post {
                external_id: format!("p{i}"),
                posted_time: Some(resonance_proto::prost_types::Timestamp {
                    seconds: posted_seconds - i * 86_400,
                    nanos: 0,
                }),
                likes: Some(followers / 50),
                comments: Some(followers / 1_000),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_score_stream_answers_in_order_and_reports_bad_items_without_stopping() {
    let backend = backends()[0];
    let app = TestApp::spawn(backend).await.expect("app starts");
    let mut scoring = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
    let now = chrono::Utc::now().timestamp();
    let items = vec![
        account("one", 20_000, now - 3_600),
        account("two", -5, now - 3_600),
        account("three", 40_000, now + 86_400 * 30),
        account("four", 60_000, now - 3_600),
    ];
    let requests = items.into_iter().map(|account| StreamScoreAccountsRequest {
        account: Some(account),
        engagement_definition: None,
    });
    let responses: Vec<_> = scoring
        .stream_score_accounts(futures::stream::iter(requests))
        .await
        .expect("stream opens")
        .into_inner()
        .collect()
        .await;
    let results: Vec<(i64, String)> = responses
        .into_iter()
        .map(|r| {
            let r = r.expect("no stream error");
            let what = match r.result.expect("a result") {
                stream_score_accounts_response::Result::Score(score) => {
                    format!("score {}", score.followers)
                }
                stream_score_accounts_response::Result::Error(error) => error.field,
            };
            (r.index, what)
        })
        .collect();
    assert_eq!(
        results,
        vec![
            (0, "score 20000".to_owned()),
            (1, "account.profile.followers".to_owned()),
            (2, "account.posts[0].posted_time".to_owned()),
            (3, "score 60000".to_owned()),
        ]
    );
    app.stop().await.expect("clean stop");
}
