#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Hostile requests to ScoringService, straight into its handlers: arbitrary bytes decoded as
//! each request message, and well-formed ScoreAccount requests whose values are anything the
//! wire allows (negative and huge counts, any timestamp, any strings, unknown enum values).
//! No handler may panic; a refusal is a status whose message leaks no SQL or file path.

#[path = "../benches/common/mod.rs"]
mod common;

use proptest::prelude::*;
use resonance_proto::prost::Message;
use resonance_proto::prost_types::{Duration, Timestamp};
use resonance_proto::scoring::scoring_service_server::ScoringService;
use resonance_proto::scoring::{
    AccountData, ClassifyFollowersRequest, EngagementDefinition, GetCreatorRequest, Post, Profile,
    ScoreAccountRequest, SearchCreatorsRequest,
};
use resonance_proto::tonic::{Request, Status};
use resonance_scoring::ScoringApi;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    api: ScoringApi,
    _dir: tempfile::TempDir,
}

/// One store and service for all cases (opening and migrating a database per case would be
/// most of the run).
fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(open)
}

fn open() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = runtime.block_on(common::scratch_store(dir.path()));
    let api = common::scoring_api(store, common::engine());
    Fixture {
        runtime,
        api,
        _dir: dir,
    }
}

/// A refusal must say what is wrong without internals.
fn clean(status: &Status) -> Result<(), TestCaseError> {
    let message = status.message().to_lowercase();
    for leak in [
        "select ", "insert ", "sqlite", "postgres", "/tmp", "panicked", ".rs:",
    ] {
        prop_assert!(!message.contains(leak), "{status:?}");
    }
    Ok(())
}

fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    prop_oneof![
        Just(None),
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| Some(Timestamp { seconds, nanos })),
        (0i64..4_000_000_000, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| Some(Timestamp { seconds, nanos })),
    ]
}

fn count() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(Some),
        (0i64..100_000).prop_map(Some)
    ]
}

fn post() -> impl Strategy<Value = Post> {
    (
        ".{0,12}",
        timestamp(),
        -2i32..12,
        (count(), count(), count(), count(), count()),
        ".{0,60}",
        any::<bool>(),
    )
        .prop_map(
            |(id, posted_time, format, (likes, comments, shares, saves, views), caption, paid)| {
                Post {
                    external_id: id,
                    posted_time,
                    format,
                    likes,
                    comments,
                    shares,
                    saves,
                    views,
                    caption,
                    paid_partnership: paid,
                    ..Default::default()
                }
            },
        )
}

fn definition() -> impl Strategy<Value = Option<EngagementDefinition>> {
    prop::option::of(
        (
            -2i32..4,
            any::<bool>(),
            any::<bool>(),
            any::<i32>(),
            prop::option::of((any::<i64>(), any::<i32>())),
        )
            .prop_map(
                |(basis, shares, saves, window, time)| EngagementDefinition {
                    basis,
                    include_shares: shares,
                    include_saves: saves,
                    post_window: window,
                    time_window: time.map(|(seconds, nanos)| Duration { seconds, nanos }),
                },
            ),
    )
}

fn score_request() -> impl Strategy<Value = ScoreAccountRequest> {
    (
        (
            -2i32..8,
            ".{0,20}",
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            ".{0,8}",
            timestamp(),
        ),
        prop::collection::vec(post(), 0..16),
        definition(),
    )
        .prop_map(
            |(
                (platform, handle, followers, following, media, country, observed),
                posts,
                definition,
            )| {
                ScoreAccountRequest {
                    account: Some(AccountData {
                        profile: Some(Profile {
                            platform,
                            handle,
                            followers,
                            following,
                            media_count: media,
                            country,
                            observed_time: observed,
                            ..Default::default()
                        }),
                        posts,
                        ..Default::default()
                    }),
                    engagement_definition: definition,
                }
            },
        )
}

proptest! {
    #[test]
    fn well_formed_score_requests_with_any_values_are_scored_or_refused(request in score_request()) {
        let f = fixture();
        if let Err(status) = f.runtime.block_on(f.api.score_account(Request::new(request))) {
            clean(&status)?;
        }
    }

    #[test]
    fn arbitrary_bytes_as_each_request_are_handled_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let f = fixture();
        let outcomes: Vec<Result<(), Status>> = f.runtime.block_on(async {
            let mut outcomes = Vec::new();
            if let Ok(request) = ScoreAccountRequest::decode(bytes.as_slice()) {
                outcomes.push(f.api.score_account(Request::new(request)).await.map(drop));
            }
            if let Ok(request) = ClassifyFollowersRequest::decode(bytes.as_slice()) {
                outcomes.push(f.api.classify_followers(Request::new(request)).await.map(drop));
            }
            if let Ok(request) = GetCreatorRequest::decode(bytes.as_slice()) {
                outcomes.push(f.api.get_creator(Request::new(request)).await.map(drop));
            }
            if let Ok(request) = SearchCreatorsRequest::decode(bytes.as_slice()) {
                outcomes.push(f.api.search_creators(Request::new(request)).await.map(drop));
            }
            outcomes
        });
        for status in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            clean(status)?;
        }
    }
}
