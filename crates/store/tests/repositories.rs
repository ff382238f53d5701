#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the library"
)]

//! Repository behaviour on every configured backend: SQLite always, PostgreSQL when
//! RESONANCE_TEST_DATABASE_URL is set (each test on a database of its own).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use resonance_core::{
    ContentFormat, Handle, MetricSnapshot, Platform, Post, Profile, ReportedAverages,
};
use resonance_store::testing::{TestDatabase, backends};
use resonance_store::{DeadLetterInput, JobCounts, JobState, Store, WriteOutcome};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn handle(raw: &str) -> Handle {
    Handle::parse(raw).expect("valid handle")
}

fn profile(name: &str, followers: u64, observed: DateTime<Utc>) -> Profile {
    Profile {
        platform: Platform::Instagram,
        handle: handle(name),
        external_id: Some(format!("id-{name}")),
        display_name: name.to_uppercase(),
        bio: "vegan recipes".to_owned(),
        followers,
        following: 321,
        media_count: 99,
        verified: false,
        is_private: false,
        has_profile_picture: true,
        country: Some("DE".to_owned()),
        language: Some("de".to_owned()),
        categories: vec!["Food".to_owned()],
        observed_at: observed,
    }
}

fn post(id: &str, day: u32, likes: u64) -> Post {
    Post {
        external_id: id.to_owned(),
        posted_at: at(day),
        format: ContentFormat::Reel,
        likes: Some(likes),
        comments: Some(7),
        shares: None,
        saves: None,
        views: Some(10_000),
        caption: "so good #ad @brand".to_owned(),
        hashtags: vec!["ad".to_owned()],
        mentions: vec!["brand".to_owned()],
        paid_partnership: false,
        url: Some(format!("https://example.com/{id}")),
    }
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("test database");
        test(store.clone()).await;
        store.close().await.expect("close");
        database.drop_database().await.expect("drop test database");
    }
}

#[tokio::test]
async fn profiles_are_created_updated_and_left_unchanged() {
    each_backend(|store| async move {
        let now = at(20);
        let repo = store.creators();
        let first = profile("anna", 20_000, at(1));
        assert_eq!(
            repo.upsert_profiles(std::slice::from_ref(&first), now)
                .await
                .expect("insert"),
            vec![WriteOutcome::Created]
        );
        assert_eq!(
            repo.upsert_profiles(std::slice::from_ref(&first), now)
                .await
                .expect("repeat"),
            vec![WriteOutcome::Unchanged]
        );

        let grown = profile("anna", 21_000, at(2));
        assert_eq!(
            repo.upsert_profiles(&[grown], now).await.expect("update"),
            vec![WriteOutcome::Updated]
        );

        // An older observation arriving late changes nothing but history.
        let stale = profile("anna", 5, at(1) - TimeDelta::days(1));
        assert_eq!(
            repo.upsert_profiles(&[stale], now).await.expect("stale"),
            vec![WriteOutcome::Unchanged]
        );

        let stored = repo
            .find(Platform::Instagram, &handle("@Anna"))
            .await
            .expect("find")
            .expect("exists");
        let stored_profile = stored.profile.expect("has a profile");
        assert_eq!(stored_profile.followers, 21_000);
        assert_eq!(stored_profile, profile("anna", 21_000, at(2)));
        let history = repo.snapshots(stored.id).await.expect("snapshots");
        assert_eq!(
            history.iter().map(|s| s.followers).collect::<Vec<_>>(),
            vec![5, 20_000, 21_000]
        );
        assert_eq!(repo.count().await.expect("count"), 1);
    })
    .await;
}

/// Four writers at once, each posting for `accounts`: 3 posts of its own per account, and one
/// post every writer sends (the same reading), which all race to create. Returns how many of
/// the shared posts were reported created.
async fn race_writers(store: &Store, accounts: std::ops::Range<u32>, shared: &str) -> usize {
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4_u32 {
        let (store, accounts, shared) = (store.clone(), accounts.clone(), shared.to_owned());
        writers.spawn(async move {
            let posts: Vec<_> = accounts
                .flat_map(|account| {
                    let shared = shared.clone();
                    (0..4).map(move |n| {
                        let id = if n == 3 {
                            shared.clone()
                        } else {
                            format!("{shared}-w{writer}-{n}")
                        };
                        (
                            Platform::Instagram,
                            handle(&format!("racer{account}")),
                            post(&id, 3 + n, 100),
                            at(10),
                        )
                    })
                })
                .collect();
            store.creators().upsert_posts(&posts, at(20)).await
        });
    }
    let mut shared_created = 0;
    while let Some(outcomes) = writers.join_next().await {
        let outcomes = outcomes
            .expect("writer task")
            .expect("a writer's batch is stored");
        for (index, outcome) in outcomes.iter().enumerate() {
            if index % 4 == 3 {
                assert_ne!(*outcome, WriteOutcome::Updated, "the same reading");
                shared_created += usize::from(*outcome == WriteOutcome::Created);
            } else {
                assert_eq!(*outcome, WriteOutcome::Created);
            }
        }
    }
    shared_created
}

#[tokio::test]
async fn every_post_has_its_creator_even_from_concurrent_writers() {
    // PostgreSQL's posts carry no foreign key (it halved import speed): the writer itself must
    // create each post's creator, also when several batches race to create the same ones. And
    // batches that all read a post as new and insert it at once store it once.
    each_backend(|store| async move {
        // New accounts: the writers race to create the creators.
        assert_eq!(race_writers(&store, 0..50, "shared").await, 50);
        // Known accounts: nothing to wait for there, so the writers read the shared posts as
        // new together, and all but one find them stored when they insert.
        assert_eq!(race_writers(&store, 0..50, "again").await, 50);
        assert_eq!(
            resonance_store::testing::orphaned_posts(&store)
                .await
                .expect("count"),
            0
        );
        let repo = store.creators();
        for account in 0..50 {
            let stored = repo
                .find(Platform::Instagram, &handle(&format!("racer{account}")))
                .await
                .expect("find")
                .expect("the account exists once");
            assert_eq!(
                stored.stored_posts, 26,
                "racer{account}: twice 4 writers x 3 posts and a shared one"
            );
        }
        assert_eq!(repo.count().await.expect("count"), 50);
    })
    .await;
}

#[tokio::test]
async fn posts_may_arrive_before_the_profile_and_repeats_change_nothing() {
    each_backend(|store| async move {
        let now = at(20);
        let repo = store.creators();
        let posts = vec![
            (
                Platform::Instagram,
                handle("ben"),
                post("p1", 3, 100),
                at(10),
            ),
            (
                Platform::Instagram,
                handle("ben"),
                post("p2", 5, 200),
                at(10),
            ),
        ];
        let outcomes = repo.upsert_posts(&posts, now).await.expect("insert posts");
        assert_eq!(outcomes, vec![WriteOutcome::Created, WriteOutcome::Created]);
        let placeholder = repo
            .find(Platform::Instagram, &handle("ben"))
            .await
            .expect("find")
            .expect("exists");
        assert!(placeholder.profile.is_none(), "no profile yet");
        assert_eq!(placeholder.stored_posts, 2);

        assert_eq!(
            repo.upsert_posts(&posts, now).await.expect("repeat"),
            vec![WriteOutcome::Unchanged, WriteOutcome::Unchanged]
        );
        let recount = vec![(
            Platform::Instagram,
            handle("ben"),
            post("p1", 3, 150),
            at(11),
        )];
        assert_eq!(
            repo.upsert_posts(&recount, now).await.expect("recount"),
            vec![WriteOutcome::Updated]
        );
        // An older reading arriving late changes nothing.
        let late = vec![(
            Platform::Instagram,
            handle("ben"),
            post("p1", 3, 120),
            at(10),
        )];
        assert_eq!(
            repo.upsert_posts(&late, now).await.expect("late"),
            vec![WriteOutcome::Unchanged]
        );
        let id = repo
            .find(Platform::Instagram, &handle("ben"))
            .await
            .expect("find")
            .expect("exists")
            .id;
        let latest = repo.latest_posts(id, 10).await.expect("posts");
        let p1 = latest.iter().find(|p| p.external_id == "p1").expect("p1");
        assert_eq!(p1.likes, Some(150), "the newest reading is kept");

        repo.upsert_profiles(&[profile("ben", 50_000, at(6))], now)
            .await
            .expect("profile");
        let stored = repo
            .find(Platform::Instagram, &handle("ben"))
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(
            stored.id, placeholder.id,
            "the profile fills the same creator"
        );
        assert_eq!(stored.profile.map(|p| p.followers), Some(50_000));

        let latest = repo.latest_posts(stored.id, 12).await.expect("posts");
        assert_eq!(
            latest
                .iter()
                .map(|p| p.external_id.as_str())
                .collect::<Vec<_>>(),
            vec!["p2", "p1"]
        );
        assert_eq!(latest[1], post("p1", 3, 150), "every field round-trips");
        assert_eq!(repo.count_posts().await.expect("count"), 2);
    })
    .await;
}

#[tokio::test]
async fn snapshots_are_keyed_by_account_and_time() {
    each_backend(|store| async move {
        let repo = store.creators();
        let snapshot = MetricSnapshot {
            observed_at: at(4),
            followers: 10,
            following: 2,
            media_count: 3,
            reported: ReportedAverages::default(),
        };
        let rows = vec![
            (Platform::TikTok, handle("cara"), snapshot),
            (Platform::TikTok, handle("cara"), snapshot),
        ];
        assert_eq!(
            repo.upsert_snapshots(&rows, at(20))
                .await
                .expect("snapshots"),
            vec![WriteOutcome::Created, WriteOutcome::Unchanged]
        );
        let creator = repo
            .find(Platform::TikTok, &handle("cara"))
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(
            repo.snapshots(creator.id).await.expect("history"),
            vec![snapshot]
        );

        // Reported averages at the same time are merged in, in either order; an unknown
        // average never replaces a known one.
        let with = |likes: Option<u64>, engagements: Option<u64>| MetricSnapshot {
            reported: ReportedAverages {
                likes,
                engagements,
                ..ReportedAverages::default()
            },
            ..snapshot
        };
        let merged = with(Some(40), Some(55));
        let first = vec![(Platform::TikTok, handle("cara"), with(Some(40), None))];
        let second = vec![(Platform::TikTok, handle("cara"), with(None, Some(55)))];
        assert_eq!(
            repo.upsert_snapshots(&first, at(20)).await.expect("first"),
            vec![WriteOutcome::Updated]
        );
        assert_eq!(
            repo.upsert_snapshots(&second, at(20))
                .await
                .expect("second"),
            vec![WriteOutcome::Updated]
        );
        assert_eq!(
            repo.upsert_snapshots(&first, at(20)).await.expect("again"),
            vec![WriteOutcome::Unchanged]
        );
        assert_eq!(
            repo.snapshots(creator.id).await.expect("history"),
            vec![merged]
        );
    })
    .await;
}

#[tokio::test]
async fn jobs_are_idempotent_by_request_id_and_keep_dead_letters() {
    each_backend(|store| async move {
        let repo = store.ingest();
        let (job, fresh) = repo
            .start_job("job-1", Some("req-1"), None, "file.jsonl", at(1))
            .await
            .expect("start");
        assert!(fresh);
        let (again, fresh_again) = repo
            .start_job("job-2", Some("req-1"), None, "file.jsonl", at(1))
            .await
            .expect("retry");
        assert!(!fresh_again);
        assert_eq!(again.id, job.id);

        repo.add_counts(
            &job.id,
            JobCounts {
                created: 3,
                updated: 1,
                unchanged: 0,
                rejected: 1,
            },
        )
        .await
        .expect("count");
        repo.add_counts(
            &job.id,
            JobCounts {
                created: 1,
                ..JobCounts::default()
            },
        )
        .await
        .expect("count");
        repo.add_dead_letters(
            Some(&job.id),
            None,
            vec![DeadLetterInput {
                source: "file.jsonl".to_owned(),
                position: "line 7".to_owned(),
                field: "post.likes".to_owned(),
                reason: "must not be negative".to_owned(),
                payload: "{\"likes\":-1}".to_owned(),
                dedupe_key: None,
            }],
            at(1),
        )
        .await
        .expect("dead letter");
        let done = repo
            .finish_job(&job.id, JobState::Succeeded, None, at(2))
            .await
            .expect("finish")
            .expect("exists");
        assert_eq!(done.state, JobState::Succeeded);
        assert_eq!(
            done.counts,
            JobCounts {
                created: 4,
                updated: 1,
                unchanged: 0,
                rejected: 1
            }
        );
        assert_eq!(done.finished_at, Some(at(2)));

        let letters = repo
            .list_dead_letters(None, Some(&job.id), None, 10)
            .await
            .expect("list");
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].position, "line 7");
        assert!(
            repo.list_dead_letters(None, Some("other"), None, 10)
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(repo.list_jobs(None, None, 10).await.expect("jobs").len(), 1);

        // A brand's request ids and jobs are its own.
        let (brand, _) = store.brands().create("Acme", at(1)).await.expect("brand");
        let (branded, fresh) = repo
            .start_job("job-3", Some("req-1"), Some(brand.id), "push", at(1))
            .await
            .expect("start");
        assert!(fresh, "another brand's request id is another request");
        assert_eq!(branded.request_id.as_deref(), Some("req-1"));
        repo.add_dead_letters(
            Some(&branded.id),
            Some(brand.id),
            vec![DeadLetterInput {
                source: "push".to_owned(),
                position: "record 0".to_owned(),
                field: "conversion.revenue".to_owned(),
                reason: "is required".to_owned(),
                payload: "order o-1".to_owned(),
                dedupe_key: None,
            }],
            at(1),
        )
        .await
        .expect("dead letter");
        let theirs = repo
            .list_jobs(Some(brand.id), None, 10)
            .await
            .expect("jobs");
        assert_eq!(
            theirs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
            ["job-3"]
        );
        assert!(
            repo.get_job("job-1", Some(brand.id))
                .await
                .expect("get")
                .is_none()
        );
        let letters = repo
            .list_dead_letters(Some(brand.id), None, None, 10)
            .await
            .expect("list");
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].payload, "order o-1");

        // A redelivered rejection with the same key is kept once; unkeyed ones always are.
        let redelivered = |key: Option<&str>| DeadLetterInput {
            source: "nats:RESONANCE_INGEST".to_owned(),
            position: "message 9 line 1".to_owned(),
            field: "handle".to_owned(),
            reason: "is required".to_owned(),
            payload: "{}".to_owned(),
            dedupe_key: key.map(str::to_owned),
        };
        for _ in 0..2 {
            repo.add_dead_letters(
                None,
                None,
                vec![
                    redelivered(Some("nats:RESONANCE_INGEST#9:1")),
                    redelivered(None),
                ],
                at(3),
            )
            .await
            .expect("dead letters");
        }
        let all = repo
            .list_dead_letters(None, None, None, 10)
            .await
            .expect("list");
        let keyed = all.iter().filter(|l| l.position == "message 9 line 1");
        assert_eq!(
            keyed.count(),
            3,
            "one keyed letter and two unkeyed: {all:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn migrations_apply_once() {
    each_backend(|store| async move {
        store.migrate().await.expect("second run is a no-op");
        assert!(store.pending_migrations().await.expect("status").is_empty());
        store.ping().await.expect("ping");
    })
    .await;
}

/// The same observations in any order, in one batch or several, leave the same posts.
#[tokio::test]
async fn post_observations_in_any_order_leave_the_same_rows() {
    each_backend(|store| async move {
        let readings: Vec<(Platform, Handle, Post, DateTime<Utc>)> = (0..6u32)
            .map(|i| {
                let likes = 100 + u64::from(i) * 10;
                (
                    Platform::Instagram,
                    handle("cleo"),
                    post(&format!("p{}", i % 2), 3, likes),
                    at(10 + i),
                )
            })
            .collect();
        let repo = store.creators();
        // Newest first, one at a time.
        for reading in readings.iter().rev() {
            repo.upsert_posts(std::slice::from_ref(reading), at(20))
                .await
                .expect("upsert");
        }
        let id = repo
            .find(Platform::Instagram, &handle("cleo"))
            .await
            .expect("find")
            .expect("exists")
            .id;
        let mut reversed = repo.latest_posts(id, 10).await.expect("posts");
        reversed.sort_by(|a, b| a.external_id.cmp(&b.external_id));

        // Oldest first, all in one batch, on a second account.
        let renamed: Vec<_> = readings
            .iter()
            .map(|(p, _, post, at)| (*p, handle("cleo2"), post.clone(), *at))
            .collect();
        repo.upsert_posts(&renamed, at(20)).await.expect("batch");
        let id = repo
            .find(Platform::Instagram, &handle("cleo2"))
            .await
            .expect("find")
            .expect("exists")
            .id;
        let mut batched = repo.latest_posts(id, 10).await.expect("posts");
        batched.sort_by(|a, b| a.external_id.cmp(&b.external_id));

        assert_eq!(reversed, batched);

        // The same counts read later move the reading forward: an older reading that then
        // arrives does not replace them.
        let reading = |likes: u64, day: u32| {
            vec![(
                Platform::Instagram,
                handle("cleo3"),
                post("q", 3, likes),
                at(day),
            )]
        };
        for (likes, day) in [(10, 11), (10, 13), (5, 12)] {
            repo.upsert_posts(&reading(likes, day), at(20))
                .await
                .expect("upsert");
        }
        let id = repo
            .find(Platform::Instagram, &handle("cleo3"))
            .await
            .expect("find")
            .expect("exists")
            .id;
        let kept = repo.latest_posts(id, 1).await.expect("posts");
        assert_eq!(
            kept[0].likes,
            Some(10),
            "day 13's reading stands over day 12's"
        );
        let likes: Vec<_> = batched.iter().map(|p| p.likes).collect();
        assert_eq!(
            likes,
            vec![Some(140), Some(150)],
            "the newest reading of each post"
        );
    })
    .await;
}

#[tokio::test]
async fn audiences_merge_in_any_order_and_follower_samples_are_keyed() {
    use resonance_core::{AudienceSketch, FollowerProfile};
    each_backend(|store| async move {
        let repo = store.creators();
        let members = |range: std::ops::Range<u32>| {
            let mut sketch = AudienceSketch::new();
            for id in range {
                sketch.insert(&format!("member{id}"));
            }
            sketch
        };
        let first = vec![(Platform::Instagram, handle("dana"), members(0..3_000))];
        let second = vec![(Platform::Instagram, handle("dana"), members(2_000..5_000))];
        assert_eq!(
            repo.merge_audiences(&first, at(1)).await.expect("first"),
            vec![WriteOutcome::Created]
        );
        assert_eq!(
            repo.merge_audiences(&second, at(2)).await.expect("second"),
            vec![WriteOutcome::Updated]
        );
        assert_eq!(
            repo.merge_audiences(&first, at(3)).await.expect("repeat"),
            vec![WriteOutcome::Unchanged]
        );
        let id = repo
            .find(Platform::Instagram, &handle("dana"))
            .await
            .expect("find")
            .expect("exists")
            .id;
        let stored = repo.audience(id).await.expect("read").expect("sketch");
        assert_eq!(stored, members(0..5_000), "the union, whatever the order");

        let follower = |id: &str, following: u64| FollowerProfile {
            id: id.to_owned(),
            followers: 12,
            following,
            media_count: 0,
            has_profile_picture: false,
            ..FollowerProfile::default()
        };
        let sample = vec![(
            Platform::Instagram,
            handle("dana"),
            vec![follower("f1", 4_000), follower("f2", 90)],
        )];
        assert_eq!(
            repo.upsert_follower_samples(&sample, at(4))
                .await
                .expect("sample"),
            vec![WriteOutcome::Created]
        );
        assert_eq!(
            repo.upsert_follower_samples(&sample, at(5))
                .await
                .expect("repeat"),
            vec![WriteOutcome::Unchanged]
        );
        let changed = vec![(
            Platform::Instagram,
            handle("dana"),
            vec![follower("f2", 95)],
        )];
        assert_eq!(
            repo.upsert_follower_samples(&changed, at(6))
                .await
                .expect("change"),
            vec![WriteOutcome::Updated]
        );
        let followers = repo.follower_samples(id, 10).await.expect("samples");
        assert_eq!(followers, vec![follower("f1", 4_000), follower("f2", 95)]);
    })
    .await;
}

fn score_record(creator_id: i64, value: f64, niche: &str) -> resonance_store::ScoreRecord {
    resonance_store::ScoreRecord {
        creator_id,
        platform: Platform::Instagram,
        followers: 20_000 + creator_id as u64,
        tier: resonance_core::Tier::Micro,
        country: Some("DE".to_owned()),
        language: None,
        primary_niche: niche.to_owned(),
        niches: vec![(niche.to_owned(), 0.8), ("travel".to_owned(), 0.2)],
        definition_id: "interactions_per_follower.latest_12".to_owned(),
        median_rate: 0.02,
        percentile: 50.0,
        authenticity: 90.0,
        fake_share: None,
        post_price: 200.0,
        value,
        expected_engagements: 400.0,
        detail: vec![1, 2, 3],
        model_version: "test".to_owned(),
        computed_at: at(20),
    }
}

#[tokio::test]
async fn changes_queue_a_rescoring_that_a_concurrent_change_keeps_due() {
    each_backend(|store| async move {
        let creators = store.creators();
        let scores = store.scores();
        creators
            .upsert_profiles(&[profile("anna", 20_000, at(1))], at(1))
            .await
            .expect("profile");
        // A second change before any rescorer has read the entry: one entry still, which the
        // rescoring that reads both clears.
        creators
            .upsert_posts(
                &[(
                    Platform::Instagram,
                    handle("anna"),
                    post("p0", 1, 10),
                    at(1),
                )],
                at(1),
            )
            .await
            .expect("post");
        assert_eq!(scores.lag().await.expect("lag").pending, 1);
        let due = scores.claim(10).await.expect("claim");
        assert_eq!(due.len(), 1);
        // Another change lands while the creator is being scored: it stays due.
        let anna = (
            Platform::Instagram,
            handle("anna"),
            post("p1", 2, 10),
            at(2),
        );
        creators
            .upsert_posts(std::slice::from_ref(&anna), at(2))
            .await
            .expect("post");
        scores.finish(&due).await.expect("finish");
        let lag = scores.lag().await.expect("lag");
        assert_eq!(lag.pending, 1);
        assert_eq!(lag.oldest, Some(at(1)), "the first mark's time is kept");
        let due = scores.claim(10).await.expect("claim");
        scores.finish(&due).await.expect("finish");
        assert_eq!(scores.lag().await.expect("lag").pending, 0);
        // The same data again changes nothing and queues nothing.
        creators.upsert_posts(&[anna], at(3)).await.expect("post");
        creators
            .upsert_profiles(&[profile("anna", 20_000, at(1))], at(3))
            .await
            .expect("profile");
        assert_eq!(scores.lag().await.expect("lag").pending, 0);

        let inputs = scores
            .load_inputs(&[due[0].creator_id, 999], 12, 100)
            .await
            .expect("inputs");
        assert_eq!(inputs.len(), 1, "unknown ids are skipped");
        assert_eq!(inputs[0].posts.len(), 2);
        assert!(inputs[0].profile.is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_at_once_wait_for_each_other_instead_of_failing() {
    // An import updating profiles while the scoring worker stores scores: on SQLite a
    // transaction that read before another one committed could not write any more, and the
    // import failed with "database is locked" instead of waiting its turn.
    each_backend(|store| async move {
        let names: Vec<String> = (0..20).map(|i| format!("busy{i}")).collect();
        let first: Vec<Profile> = names.iter().map(|n| profile(n, 20_000, at(1))).collect();
        store
            .creators()
            .upsert_profiles(&first, at(1))
            .await
            .expect("profiles");
        let ids: Vec<i64> = {
            let repo = store.creators();
            let mut ids = Vec::new();
            for name in &names {
                let stored = repo
                    .find(Platform::Instagram, &handle(name))
                    .await
                    .expect("find")
                    .expect("stored");
                ids.push(stored.id);
            }
            ids
        };
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..2_u32 {
            let (store, names) = (store.clone(), names.clone());
            writers.spawn(async move {
                for round in 0..25_u32 {
                    let observed = at(2) + TimeDelta::minutes(i64::from(writer * 100 + round));
                    let profiles: Vec<Profile> = names
                        .iter()
                        .skip(writer as usize)
                        .step_by(2)
                        .map(|n| profile(n, 20_000 + u64::from(round), observed))
                        .collect();
                    store
                        .creators()
                        .upsert_profiles(&profiles, at(20))
                        .await
                        .map_err(|e| format!("profiles, writer {writer} round {round}: {e}"))?;
                }
                Ok::<_, String>(())
            });
        }
        let scorer = store.clone();
        writers.spawn(async move {
            for round in 0..25_u32 {
                let records: Vec<_> = ids
                    .iter()
                    .map(|id| score_record(*id, f64::from(round), "food"))
                    .collect();
                scorer
                    .scores()
                    .save(&records, &[])
                    .await
                    .map_err(|e| format!("scores, round {round}: {e}"))?;
            }
            Ok(())
        });
        while let Some(done) = writers.join_next().await {
            done.expect("writer task")
                .expect("every write waits its turn");
        }
        let stored = store
            .creators()
            .find(Platform::Instagram, &handle("busy1"))
            .await
            .expect("find")
            .expect("stored");
        assert_eq!(stored.profile.map(|p| p.followers), Some(20_024));
    })
    .await;
}

#[tokio::test]
async fn search_filters_on_niches_and_pages_by_seek() {
    each_backend(|store| async move {
        let names: Vec<String> = (0..25).map(|i| format!("creator{i}")).collect();
        let profiles: Vec<Profile> = names.iter().map(|n| profile(n, 20_000, at(1))).collect();
        store
            .creators()
            .upsert_profiles(&profiles, at(1))
            .await
            .expect("profiles");
        let mut ids = Vec::new();
        for name in &names {
            let stored = store
                .creators()
                .find(Platform::Instagram, &handle(name))
                .await
                .expect("find")
                .expect("stored");
            ids.push(stored.id);
        }
        // Values tie in pairs, so pages must break ties by id.
        let records: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                score_record(
                    *id,
                    (i / 2) as f64,
                    if i % 5 == 0 { "fitness" } else { "food" },
                )
            })
            .collect();
        store.scores().save(&records, &[]).await.expect("save");
        store
            .scores()
            .save(&records[..3], &[])
            .await
            .expect("save again");
        let mut query = resonance_store::SearchQuery {
            niches: vec!["food".to_owned()],
            limit: 4,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.scores().search(&query).await.expect("search");
            let Some(last) = page.last() else { break };
            query.after = Some((last.sort_key(query.sort), last.score.creator_id));
            seen.extend(
                page.iter()
                    .map(|hit| (hit.score.value, hit.score.creator_id)),
            );
        }
        assert_eq!(seen.len(), 20, "the 5 fitness creators are left out");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        assert_eq!(seen, sorted, "best value first, then by id, none twice");
        let travel = store
            .scores()
            .search(&resonance_store::SearchQuery {
                niches: vec!["travel".to_owned()],
                max_post_price: Some(100.0),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("search");
        assert!(travel.is_empty(), "every price is 200");
        let travel = store
            .scores()
            .search(&resonance_store::SearchQuery {
                niches: vec!["travel".to_owned()],
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("search");
        assert_eq!(travel.len(), 25, "a secondary niche matches too");
        let one = store
            .scores()
            .get(ids[0])
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(one.niches[0], ("fitness".to_owned(), 0.8));
        assert_eq!(one.detail, vec![1, 2, 3]);
    })
    .await;
}

fn key(name: &str) -> resonance_core::campaign::CreatorKey {
    resonance_core::campaign::CreatorKey {
        platform: Platform::Instagram,
        handle: handle(name),
    }
}

fn campaign_terms() -> resonance_store::Campaign {
    use resonance_core::campaign::{CampaignGoal, CampaignStatus, Money, Window};
    resonance_store::Campaign {
        display_name: "Spring".to_owned(),
        goal: CampaignGoal::Engagement,
        status: CampaignStatus::Draft,
        budget: Money::new("USD", 5_000_000_000).expect("money"),
        window: Window::new(at(1), at(28)).expect("window"),
        niches: vec!["food".to_owned()],
        platforms: vec![Platform::Instagram],
        hashtags: vec!["springglow".to_owned()],
        mentions: Vec::new(),
        promo_codes: vec!["spring10".to_owned()],
        roster: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn brand_data_is_created_once_per_request_id_and_hidden_from_other_brands() {
    use resonance_core::campaign::{CampaignStatus, PipelineStatus};
    use resonance_store::{ChangeError, EntryCreateError, Roster, RosterEntry};
    each_backend(|store| async move {
        let now = at(2);
        let (brand, _) = store.brands().create("Acme", now).await.expect("brand");
        let (other, _) = store.brands().create("Rival", now).await.expect("brand");
        let roster = Roster {
            display_name: "Food".to_owned(),
            description: String::new(),
        };

        // 50 concurrent creates with one request id leave one row, and all see it.
        let creates = (0..50).map(|_| {
            let store = store.clone();
            let roster = roster.clone();
            async move {
                store
                    .rosters()
                    .create(brand.id, &roster, Some("req-1"), now)
                    .await
                    .expect("create")
                    .roster
                    .id
            }
        });
        let ids = futures_join_all(creates).await;
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let listed = store
            .rosters()
            .list(brand.id, None, 100)
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        let id = ids[0];

        // Another brand: the same id does not exist, for reads, changes and lists.
        assert!(
            store
                .rosters()
                .get(other.id, id)
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .rosters()
                .list(other.id, None, 100)
                .await
                .expect("list")
                .is_empty()
        );
        let foreign = store
            .rosters()
            .update(other.id, id, None, now, |r| Ok::<_, ()>(r.value.clone()))
            .await;
        assert!(matches!(foreign, Err(ChangeError::NotFound)));
        assert!(matches!(
            store.rosters().delete(other.id, id, None).await,
            Err(ChangeError::NotFound)
        ));
        // The same request id of another brand is another request.
        let theirs = store
            .rosters()
            .create(other.id, &roster, Some("req-1"), now)
            .await
            .expect("create");
        assert_ne!(theirs.roster.id, id);

        // Versions: an update against a stale version is refused and changes nothing.
        let renamed = store
            .rosters()
            .update(brand.id, id, Some(1), at(3), |r| {
                Ok::<_, ()>(Roster {
                    display_name: "Food creators".to_owned(),
                    ..r.value.clone()
                })
            })
            .await
            .expect("update");
        assert_eq!(renamed.roster.version, 2);
        let stale = store
            .rosters()
            .update(brand.id, id, Some(1), at(3), |r| {
                Ok::<_, ()>(r.value.clone())
            })
            .await;
        assert!(matches!(stale, Err(ChangeError::Stale { current: 2 })));

        // Entries: one per creator, which need not be known to the platform yet.
        let entry = RosterEntry {
            roster: id,
            creator: key("unknown_chef"),
            status: PipelineStatus::Prospect,
            notes: "met at a fair".to_owned(),
            rates: Vec::new(),
        };
        let created = store
            .rosters()
            .create_entry(brand.id, &entry, None, now)
            .await
            .expect("entry");
        assert_eq!(created.creator_id, None);
        let again = store
            .rosters()
            .create_entry(brand.id, &entry, None, now)
            .await;
        assert!(matches!(again, Err(EntryCreateError::Duplicate(e)) if e == created.entry.id));
        let foreign_entry = store
            .rosters()
            .create_entry(other.id, &entry, None, now)
            .await;
        assert!(matches!(
            foreign_entry,
            Err(EntryCreateError::RosterNotFound)
        ));
        assert!(
            store
                .rosters()
                .list_entries(other.id, id, &[], None, 10)
                .await
                .expect("list")
                .is_none()
        );
        let contracted = store
            .rosters()
            .list_entries(brand.id, id, &[PipelineStatus::Contracted], None, 10)
            .await
            .expect("list")
            .expect("roster");
        assert!(contracted.is_empty());
        assert_eq!(
            store
                .rosters()
                .get(brand.id, id)
                .await
                .expect("get")
                .expect("roster")
                .entry_count,
            1
        );

        // Campaigns: closed campaigns take no new deliverables.
        let campaign = store
            .campaigns()
            .create(brand.id, &campaign_terms(), Some("c-1"), now)
            .await
            .expect("campaign");
        assert!(
            store
                .campaigns()
                .get(other.id, campaign.id)
                .await
                .expect("get")
                .is_none()
        );
        store
            .campaigns()
            .update(brand.id, campaign.id, None, now, |c| {
                let mut value = c.value.clone();
                value.status = CampaignStatus::Cancelled;
                Ok::<_, ()>(value)
            })
            .await
            .expect("cancel");
        let deliverable = resonance_store::Deliverable {
            campaign: campaign.id,
            creator: key("ana"),
            kind: resonance_core::campaign::DeliverableKind::ProductSeeding {
                product: "Serum".to_owned(),
                quantity: 1,
                shipment: resonance_core::campaign::ShipmentStatus::Pending,
            },
            fee_micros: 0,
            payment: resonance_core::campaign::PaymentStatus::Unpaid,
            promo_code: None,
            tracking_url: None,
        };
        assert!(matches!(
            store
                .campaigns()
                .create_deliverable(brand.id, &deliverable, None, now)
                .await,
            Err(resonance_store::DeliverableCreateError::CampaignClosed(
                CampaignStatus::Cancelled
            ))
        ));
    })
    .await;
}

#[tokio::test]
async fn conversions_are_keyed_by_brand_and_order() {
    use resonance_core::campaign::Money;
    use resonance_core::campaign::report::Conversion;
    each_backend(|store| async move {
        let now = at(2);
        let (brand, _) = store.brands().create("Acme", now).await.expect("brand");
        let (other, _) = store.brands().create("Rival", now).await.expect("brand");
        let order = |id: &str, cents: i64| Conversion {
            order_id: id.to_owned(),
            promo_code: Some("spring10".to_owned()),
            tracking_url: None,
            occurred_at: at(5),
            revenue: Money::new("USD", cents * 10_000).expect("money"),
        };
        let first = store
            .campaigns()
            .upsert_conversions(brand.id, &[order("o-1", 1_000), order("o-2", 2_000)], now)
            .await
            .expect("upsert");
        assert_eq!(first, [WriteOutcome::Created, WriteOutcome::Created]);
        let again = store
            .campaigns()
            .upsert_conversions(brand.id, &[order("o-1", 1_000), order("o-2", 2_500)], now)
            .await
            .expect("upsert");
        assert_eq!(again, [WriteOutcome::Unchanged, WriteOutcome::Updated]);
        store
            .campaigns()
            .upsert_conversions(other.id, &[order("o-1", 9_900)], now)
            .await
            .expect("upsert");
        let mine = store
            .campaigns()
            .conversions(brand.id, &["spring10".to_owned()], &[], at(1), at(28))
            .await
            .expect("conversions");
        let revenue: i64 = mine.iter().map(|c| c.revenue.micros).sum();
        assert_eq!((mine.len(), revenue), (2, 35_000_000));
    })
    .await;
}

async fn futures_join_all<F: std::future::Future<Output = i64> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<i64> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut ids = Vec::with_capacity(handles.len());
    for handle in handles {
        ids.push(handle.await.expect("task"));
    }
    ids
}
