#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Hostile pushes to IngestService over the network, as a client streams them: arbitrary
//! bytes decoded as `IngestRecordsRequest`s, and well-formed records of every kind whose
//! values are anything the wire allows. The call succeeds with an outcome per record, or is
//! refused with a status that is not INTERNAL and leaks nothing; a record's error names it by
//! its index and says what is wrong without internals; the server stays healthy.

use std::sync::OnceLock;

use proptest::prelude::*;
use resonance_proto::common::{CreatorRef, Money};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::record::Kind;
use resonance_proto::ingest::*;
use resonance_proto::prost::Message;
use resonance_proto::prost_types::Timestamp;
use resonance_proto::scoring::{FollowerProfile, MetricSnapshot, Post, Profile};
use resonance_proto::tonic::Code;
use resonance_store::testing::Backend;
use resonance_tests::{KeyedChannel, TestApp};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    client: IngestServiceClient<KeyedChannel>,
    _app: TestApp,
}

/// One platform for all cases.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (app, client) = runtime.block_on(async {
            let app = TestApp::spawn(Backend::Sqlite).await.expect("app starts");
            let client = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
            (app, client)
        });
        Fixture {
            runtime,
            client,
            _app: app,
        }
    })
}

fn leaks(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    [
        "select ", "insert ", "update ", "sqlite", "postgres", "/tmp", "/root", "panicked", ".rs:",
        "sqlx", "sea_orm",
    ]
    .into_iter()
    .find(|leak| lower.contains(leak))
}

/// Pushes `messages` as one stream and checks what comes back.
fn push(messages: Vec<IngestRecordsRequest>) -> Result<(), TestCaseError> {
    let fixture = fixture();
    let records: usize = messages.iter().map(|m| m.records.len()).sum();
    let mut client = fixture.client.clone();
    let answer = fixture
        .runtime
        .block_on(async move { client.ingest_records(futures::stream::iter(messages)).await });
    match answer {
        Ok(response) => {
            let response = response.into_inner();
            prop_assert_eq!(response.outcomes.len(), records, "one outcome per record");
            for error in &response.errors {
                prop_assert!(
                    usize::try_from(error.index).is_ok_and(|i| i < records),
                    "{:?}",
                    error
                );
                prop_assert!(!error.message.is_empty(), "{:?}", error);
                prop_assert!(leaks(&error.message).is_none(), "{:?}", error);
            }
        }
        Err(status) => {
            prop_assert!(
                !matches!(status.code(), Code::Internal | Code::Unknown),
                "{:?}",
                status
            );
            prop_assert!(leaks(status.message()).is_none(), "{:?}", status);
        }
    }
    Ok(())
}

fn any_time() -> impl Strategy<Value = Option<Timestamp>> {
    prop::option::of(
        (any::<i64>(), any::<i32>()).prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
    )
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9._]{1,30}",
        any::<String>().prop_map(|s| s.chars().take(200).collect()),
    ]
}

fn any_account() -> impl Strategy<Value = Option<CreatorRef>> {
    prop::option::of(
        (any::<i32>(), any_text()).prop_map(|(platform, handle)| CreatorRef { platform, handle }),
    )
}

fn any_record() -> impl Strategy<Value = Record> {
    let profile = (
        any::<i32>(),
        any_text(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any_time(),
    )
        .prop_map(
            |(platform, handle, followers, following, media_count, observed_time)| {
                Kind::Profile(ProfileRecord {
                    profile: Some(Profile {
                        platform,
                        handle,
                        followers,
                        following,
                        media_count,
                        observed_time,
                        ..Default::default()
                    }),
                })
            },
        );
    let snapshot = (any_account(), any_time(), any::<i64>(), any::<i64>()).prop_map(
        |(account, observed_time, followers, following)| {
            Kind::Snapshot(SnapshotRecord {
                account,
                snapshot: Some(MetricSnapshot {
                    observed_time,
                    followers,
                    following,
                    ..Default::default()
                }),
            })
        },
    );
    let post = (
        any_account(),
        any_text(),
        any_time(),
        any::<i32>(),
        prop::array::uniform5(any::<Option<i64>>()),
        any_text(),
        prop::collection::vec(any_text(), 0..4),
        any_time(),
    )
        .prop_map(
            |(account, external_id, posted_time, format, counts, caption, hashtags, observed)| {
                Kind::Post(PostRecord {
                    account,
                    post: Some(Post {
                        external_id,
                        posted_time,
                        format,
                        likes: counts[0],
                        comments: counts[1],
                        shares: counts[2],
                        saves: counts[3],
                        views: counts[4],
                        caption,
                        hashtags,
                        ..Default::default()
                    }),
                    observed_time: observed,
                })
            },
        );
    let sample = (
        any_account(),
        prop::collection::vec((any_text(), any::<i64>(), any::<i32>()), 0..4),
    )
        .prop_map(|(account, followers)| {
            Kind::FollowerSample(FollowerSampleRecord {
                account,
                followers: followers
                    .into_iter()
                    .map(|(id, followers, bio_length)| FollowerProfile {
                        id,
                        followers,
                        bio_length,
                        ..Default::default()
                    })
                    .collect(),
            })
        });
    let audience = (any_account(), prop::collection::vec(any_text(), 0..8)).prop_map(
        |(account, member_ids)| {
            Kind::Audience(AudienceRecord {
                account,
                member_ids,
            })
        },
    );
    let conversion = (
        any_text(),
        any_text(),
        any_text(),
        any_time(),
        prop::option::of((any_text(), any::<i64>(), any::<i32>())),
    )
        .prop_map(
            |(order_id, promo_code, tracking_url, occurred_time, revenue)| {
                Kind::Conversion(ConversionRecord {
                    order_id,
                    promo_code,
                    tracking_url,
                    occurred_time,
                    revenue: revenue.map(|(currency_code, units, nanos)| Money {
                        currency_code,
                        units,
                        nanos,
                    }),
                })
            },
        );
    prop::option::of(prop_oneof![
        profile, snapshot, post, sample, audience, conversion
    ])
    .prop_map(|kind| Record { kind })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_pushed_messages(
        messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..4),
    ) {
        let decoded: Vec<IngestRecordsRequest> = messages
            .iter()
            .filter_map(|bytes| IngestRecordsRequest::decode(bytes.as_slice()).ok())
            .collect();
        if !decoded.is_empty() {
            push(decoded)?;
        }
    }

    #[test]
    fn records_of_every_kind_with_any_values(
        request_id in any_text(),
        source in any_text(),
        records in prop::collection::vec(any_record(), 0..12),
    ) {
        push(vec![IngestRecordsRequest { request_id, source, records }])?;
    }
}
