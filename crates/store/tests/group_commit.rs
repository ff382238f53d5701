#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the library"
)]

//! Group commit (a bulk import's batches in one transaction), on every configured backend:
//! what other connections see before and after the commit, a batch the database refuses, a
//! batch that lost a race to another writer, a group dropped before its commit, and writers
//! waiting on an open group.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use resonance_core::{ContentFormat, Handle, Platform, Post};
use resonance_store::testing::{Backend, TestDatabase, backends};
use resonance_store::{JobCounts, Store, StoreError, WriteOutcome};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn post(account: &str, id: &str) -> (Platform, Handle, Post, DateTime<Utc>) {
    let post = Post {
        external_id: id.to_owned(),
        posted_at: at(3),
        format: ContentFormat::Reel,
        likes: Some(120),
        comments: Some(7),
        shares: None,
        saves: None,
        views: Some(10_000),
        caption: "so good".to_owned(),
        hashtags: Vec::new(),
        mentions: Vec::new(),
        paid_partnership: false,
        url: None,
    };
    (
        Platform::Instagram,
        Handle::parse(account).expect("valid handle"),
        post,
        at(10),
    )
}

async fn stored_posts(store: &Store, account: &str) -> Option<u64> {
    store
        .creators()
        .find(
            Platform::Instagram,
            &Handle::parse(account).expect("handle"),
        )
        .await
        .expect("find")
        .map(|creator| creator.stored_posts)
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Backend, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("test database");
        test(backend, store.clone()).await;
        store.close().await.expect("close");
        database.drop_database().await.expect("drop test database");
    }
}

#[tokio::test]
async fn grouped_batches_commit_with_their_counts_and_a_refused_batch_rolls_back_alone() {
    each_backend(|_, store| async move {
        resonance_store::testing::refuse_posts_with_external_id(&store, "refuse-me")
            .await
            .expect("trigger");
        let (job, _) = store
            .ingest()
            .start_job("job-1", None, None, "posts.jsonl", at(20))
            .await
            .expect("job");
        let mut group = store.group_commit();

        let first = [post("alice", "a1"), post("bob", "b1")];
        assert_eq!(
            group
                .upsert_posts(&first, at(20))
                .await
                .expect("first batch"),
            [WriteOutcome::Created, WriteOutcome::Created]
        );
        let counts = JobCounts {
            created: 2,
            ..JobCounts::default()
        };
        group.add_counts(&job.id, counts).await.expect("counts");
        // Other connections see the batch once the group commits.
        assert_eq!(
            stored_posts(&store, "alice").await,
            None,
            "not committed yet"
        );

        // A batch the database refuses: its new account and posts go, the group stays.
        let refused = [post("carol", "c1"), post("carol", "refuse-me")];
        let error = group
            .upsert_posts(&refused, at(20))
            .await
            .expect_err("refused");
        assert!(matches!(error, StoreError::Refused(_)), "{error:?}");
        // The account the refused batch created is created again, not taken from a cache.
        assert_eq!(
            group
                .upsert_posts(&[post("carol", "c1")], at(20))
                .await
                .expect("after the refusal"),
            [WriteOutcome::Created]
        );
        group
            .add_counts(
                &job.id,
                JobCounts {
                    created: 1,
                    ..JobCounts::default()
                },
            )
            .await
            .expect("counts");
        group.commit().await.expect("commit");

        for (account, posts) in [("alice", 1), ("bob", 1), ("carol", 1)] {
            assert_eq!(
                stored_posts(&store, account).await,
                Some(posts),
                "{account}"
            );
        }
        assert_eq!(
            resonance_store::testing::orphaned_posts(&store)
                .await
                .expect("count"),
            0
        );
        let job = store
            .ingest()
            .get_job(&job.id, None)
            .await
            .expect("get")
            .expect("job");
        assert_eq!(job.counts.created, 3, "the counts committed with the posts");
        // Every account whose posts changed waits for rescoring.
        let lag = store.scores().lag().await.expect("lag");
        assert_eq!(lag.pending, 3);
    })
    .await;
}

#[tokio::test]
async fn a_group_dropped_before_its_commit_leaves_nothing_and_the_store_goes_on() {
    each_backend(|_, store| async move {
        let mut group = store.group_commit();
        group
            .upsert_posts(&[post("dora", "d1")], at(20))
            .await
            .expect("batch");
        drop(group);
        // The import failed before the commit: nothing of the group is kept.
        assert_eq!(stored_posts(&store, "dora").await, None);
        // The writer's connection went with the transaction; the next write gets a new one.
        let outcomes = store
            .creators()
            .upsert_posts(&[post("dora", "d1"), post("dora", "d2")], at(20))
            .await
            .expect("write after the drop");
        assert_eq!(outcomes, [WriteOutcome::Created, WriteOutcome::Created]);
        assert_eq!(stored_posts(&store, "dora").await, Some(2));
    })
    .await;
}

#[tokio::test]
async fn other_writers_wait_for_an_open_group_and_then_succeed() {
    each_backend(|backend, store| async move {
        let mut group = store.group_commit();
        group
            .upsert_posts(&[post("erin", "e1")], at(20))
            .await
            .expect("batch");
        // A write through the pool (an API call, say), not through the group's connection.
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .ingest()
                    .start_job("job-2", None, None, "push", at(20))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        if backend == Backend::Sqlite {
            // One writer at a time on SQLite: the other waits for the group's commit
            // (the busy timeout is 5 s, the group commits within a second). On PostgreSQL
            // only a writer of the same rows waits.
            assert!(!writer.is_finished(), "the write waits for the group");
        }
        group.commit().await.expect("commit");
        let (job, created) = writer
            .await
            .expect("task")
            .expect("the waiting write succeeds");
        assert!(created);
        assert_eq!(job.id, "job-2");
        assert_eq!(stored_posts(&store, "erin").await, Some(1));
    })
    .await;
}

#[tokio::test]
async fn a_batch_that_lost_a_race_is_written_again_and_the_group_keeps_its_earlier_batches() {
    // Only PostgreSQL has concurrent writers: on SQLite the other writer would wait for the
    // group's commit.
    each_backend(|backend, store| async move {
        if backend != Backend::Postgres {
            return;
        }
        let mut group = store.group_commit();
        let first = [post("hana", "h1"), post("hana", "h2")];
        assert_eq!(
            group.upsert_posts(&first, at(20)).await.expect("first"),
            [WriteOutcome::Created, WriteOutcome::Created]
        );
        // Another writer stores a post of the group's next batch first, and commits.
        let (platform, handle, mut raced, observed) = post("ivan", "i1");
        raced.likes = Some(5);
        store
            .creators()
            .upsert_posts(&[(platform, handle, raced, observed)], at(20))
            .await
            .expect("the other writer");
        // The group's batch inserts it as new, fails on it, rolls back to its savepoint and
        // is written again as an update of what the other writer stored.
        let second = [post("ivan", "i1"), post("ivan", "i2")];
        assert_eq!(
            group.upsert_posts(&second, at(20)).await.expect("second"),
            [WriteOutcome::Updated, WriteOutcome::Created]
        );
        group.commit().await.expect("commit");
        assert_eq!(stored_posts(&store, "hana").await, Some(2));
        assert_eq!(stored_posts(&store, "ivan").await, Some(2));
        assert_eq!(
            resonance_store::testing::orphaned_posts(&store)
                .await
                .expect("count"),
            0
        );
        // Both accounts wait for rescoring, once each.
        assert_eq!(store.scores().lag().await.expect("lag").pending, 2);
    })
    .await;
}

#[tokio::test]
async fn two_imports_that_deadlock_both_finish() {
    // Two imports of overlapping files on PostgreSQL: each group holds a post the other's next
    // batch writes. PostgreSQL aborts one of them; that group commits what it holds and writes
    // its batch again, so both end. (SQLite has one writer: there the second group waits.)
    each_backend(|backend, store| async move {
        if backend != Backend::Postgres {
            return;
        }
        // The account exists before either group, so neither waits for the other's creator.
        store
            .creators()
            .upsert_posts(&[post("lee", "x0")], at(20))
            .await
            .expect("the account");
        let (mut first, mut second) = (store.group_commit(), store.group_commit());
        first
            .upsert_posts(&[post("lee", "x2")], at(20))
            .await
            .expect("first group's batch");
        second
            .upsert_posts(&[post("lee", "x1")], at(20))
            .await
            .expect("second group's batch");
        // The first group waits for the second's x1 ...
        let waiting = tokio::spawn(async move {
            let written = first.upsert_posts(&[post("lee", "x1")], at(20)).await;
            (first, written)
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // ... and the second for the first's x2: a deadlock, which PostgreSQL breaks after a
        // second by aborting the first group's statement.
        let written = tokio::time::timeout(
            Duration::from_secs(20),
            second.upsert_posts(&[post("lee", "x2")], at(20)),
        )
        .await
        .expect("the second group's batch ends")
        .expect("the second group's batch is written");
        assert_eq!(written, [WriteOutcome::Unchanged]);
        second.commit().await.expect("second commit");
        let (mut first, written) = tokio::time::timeout(Duration::from_secs(20), waiting)
            .await
            .expect("the first group's batch ends")
            .expect("task");
        assert_eq!(
            written.expect("the first group's batch is written"),
            [WriteOutcome::Unchanged]
        );
        first.commit().await.expect("first commit");
        assert_eq!(stored_posts(&store, "lee").await, Some(3));
    })
    .await;
}

#[tokio::test]
async fn post_text_is_stored_as_given_whatever_characters_it_holds() {
    // New posts reach PostgreSQL through COPY's text format, where a tab, a line break or a
    // backslash means something: each must come back as it was sent.
    each_backend(|_, store| async move {
        let texts = [
            "tab\there",
            "two\nlines\r\nand a carriage return\r",
            "back\\slash \\N \\. \\t",
            "\\.",
            "\\N",
            "émoji 🎉 and \u{2028} separators",
        ];
        let posts: Vec<_> = texts
            .iter()
            .enumerate()
            .map(|(n, text)| {
                let (platform, handle, mut post, observed) = post("gina", &format!("g{n}"));
                post.caption = (*text).to_owned();
                post.url = Some(format!("https://example.com/{text}"));
                post.mentions = vec![(*text).to_owned()];
                // Times go as text too, to the microsecond.
                post.posted_at += chrono::Duration::microseconds(123_456 * n as i64);
                (platform, handle, post, observed)
            })
            .collect();
        let outcomes = store
            .creators()
            .upsert_posts(&posts, at(20))
            .await
            .expect("stored");
        assert!(outcomes.iter().all(|o| *o == WriteOutcome::Created));
        // The same posts again are unchanged: what is stored equals what was sent.
        let again = store
            .creators()
            .upsert_posts(&posts, at(20))
            .await
            .expect("again");
        assert!(
            again.iter().all(|o| *o == WriteOutcome::Unchanged),
            "{again:?}"
        );
    })
    .await;
}
