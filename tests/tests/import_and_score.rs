#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The first real path through the platform: records in (file or push API), score out.

use resonance_proto::common::{CreatorRef, Platform, Tier};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::{
    IngestRecordsRequest, ListDeadLettersRequest, PostRecord, ProfileRecord, Record, RecordOutcome,
    record::Kind,
};
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{GetCreatorRequest, Post, Profile, get_creator_request};
use resonance_proto::tonic::Code;
use resonance_tests::{TestApp, backends};

const ACCOUNTS: &str = r#"{"type":"profile","platform":"instagram","handle":"Chef.Anna","display_name":"Anna","followers":20000,"following":410,"media_count":230,"observed_time":"2026-11-01T08:00:00Z"}
{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p1","posted_time":"2026-10-20T12:00:00Z","likes":380,"comments":20,"caption":"Autumn soup"}
{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p2","posted_time":"2026-10-27T12:00:00Z","likes":-5,"comments":20}
{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p3","posted_time":"2026-10-24T12:00:00Z","likes":560,"comments":40,"caption":"Pie #ad"}
{"type":"post", "platform": "instagram", "handle": "chef.anna", this is not json
{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p4","posted_time":"2026-10-30T12:00:00Z","likes":1150,"comments":50,"paid_partnership":true}
"#;

fn by_ref(handle: &str) -> GetCreatorRequest {
    GetCreatorRequest {
        creator: Some(get_creator_request::Creator::Ref(CreatorRef {
            platform: Platform::Instagram as i32,
            handle: handle.to_owned(),
        })),
    }
}

#[tokio::test]
async fn an_imported_file_is_scored_and_bad_lines_are_reported_by_number() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await.expect("app starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("accounts.jsonl");
        std::fs::write(&file, ACCOUNTS).expect("write file");

        let summary = resonance_ingest::import_jsonl(&app.store, &file, |_| {})
            .await
            .expect("import runs");
        assert_eq!(
            (summary.counts.created, summary.counts.rejected),
            (4, 2),
            "{summary:?}"
        );
        let lines: Vec<(&str, &str)> = summary
            .rejections
            .iter()
            .map(|r| (r.position.as_str(), r.field.as_str()))
            .collect();
        assert_eq!(lines, vec![("line 3", "likes"), ("line 5", "")]);

        let mut scoring =
            ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
        let creator = scoring
            .get_creator(by_ref("@chef.anna"))
            .await
            .expect("stored creator")
            .into_inner()
            .creator
            .expect("creator");
        assert_eq!(creator.followers, 20_000);
        assert_eq!(creator.stored_posts, 3);
        let score = creator.score.expect("scored");
        assert_eq!(score.tier, Tier::Micro as i32);
        let engagement = score.engagement.expect("engagement");
        // Per post (likes + comments) / 20,000: p1 400 -> 2%, p3 600 -> 3%, p4 1,200 -> 6%.
        assert_eq!(
            engagement.definition_id,
            "interactions_per_follower.latest_12"
        );
        assert!(
            (engagement.median_rate - 0.03).abs() < 1e-12,
            "{engagement:?}"
        );
        assert!(
            (engagement.mean_rate - 0.11 / 3.0).abs() < 1e-12,
            "{engagement:?}"
        );
        assert_eq!(engagement.posts_considered, 3);
        assert_eq!(
            engagement.sponsored_posts, 2,
            "#ad and the paid-partnership label"
        );

        // Importing the same file again changes nothing.
        let again = resonance_ingest::import_jsonl(&app.store, &file, |_| {})
            .await
            .expect("second import");
        assert_eq!(
            (
                again.counts.created,
                again.counts.updated,
                again.counts.unchanged
            ),
            (0, 0, 4)
        );

        let missing = scoring
            .get_creator(by_ref("nobody"))
            .await
            .expect_err("unknown creator");
        assert_eq!(missing.code(), Code::NotFound);
        let bad = scoring
            .get_creator(by_ref("two words"))
            .await
            .expect_err("bad handle");
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(bad.message().starts_with("ref.handle"), "{}", bad.message());
        app.stop().await.expect("clean stop");
    }
}

#[tokio::test]
async fn the_push_api_reports_every_record_and_dead_letters_the_bad_ones() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await.expect("app starts");
        let mut ingest = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
        let account = CreatorRef {
            platform: Platform::Tiktok as i32,
            handle: "moves.by.mo".to_owned(),
        };
        let post = |id: &str, likes: i64| Record {
            kind: Some(Kind::Post(PostRecord {
                account: Some(account.clone()),
                post: Some(Post {
                    external_id: id.to_owned(),
                    posted_time: Some(resonance_proto::prost_types::Timestamp {
                        seconds: 1_790_000_000,
                        nanos: 0,
                    }),
                    likes: Some(likes),
                    comments: Some(10),
                    views: Some(20_000),
                    ..Default::default()
                }),
                observed_time: None,
            })),
        };
        let profile = Record {
            kind: Some(Kind::Profile(ProfileRecord {
                profile: Some(Profile {
                    platform: Platform::Tiktok as i32,
                    handle: "moves.by.mo".to_owned(),
                    followers: 600_000,
                    ..Default::default()
                }),
            })),
        };
        let requests = vec![
            IngestRecordsRequest {
                request_id: "push-1".to_owned(),
                source: "partner-feed".to_owned(),
                records: vec![post("v1", 990)],
            },
            IngestRecordsRequest {
                records: vec![post("v2", -1), profile],
                ..Default::default()
            },
        ];
        let response = ingest
            .ingest_records(futures::stream::iter(requests))
            .await
            .expect("ingest")
            .into_inner();
        let created = RecordOutcome::Created as i32;
        assert_eq!(
            response.outcomes,
            vec![created, RecordOutcome::Rejected as i32, created]
        );
        assert_eq!(response.errors.len(), 1);
        assert_eq!(
            (response.errors[0].index, response.errors[0].field.as_str()),
            (1, "post.post.likes")
        );
        let job = response.job.expect("job");
        assert_eq!(
            (job.created, job.rejected, job.source.as_str()),
            (2, 1, "partner-feed")
        );

        let letters = ingest
            .list_dead_letters(ListDeadLettersRequest {
                parent: job.name.clone(),
                ..Default::default()
            })
            .await
            .expect("dead letters")
            .into_inner()
            .dead_letters;
        assert_eq!(letters.len(), 1);
        assert_eq!(
            (letters[0].position.as_str(), letters[0].field.as_str()),
            ("record 1", "post.post.likes")
        );

        let mut scoring =
            ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
        let request = GetCreatorRequest {
            creator: Some(get_creator_request::Creator::Ref(account.clone())),
        };
        let score = scoring
            .get_creator(request)
            .await
            .expect("creator")
            .into_inner()
            .creator
            .and_then(|c| c.score)
            .expect("score");
        assert_eq!(score.tier, Tier::Macro as i32);
        let engagement = score.engagement.expect("engagement");
        assert!((engagement.median_rate - 1_000.0 / 600_000.0).abs() < 1e-12);
        assert_eq!(engagement.view_rate, Some(0.05));
        app.stop().await.expect("clean stop");
    }
}
