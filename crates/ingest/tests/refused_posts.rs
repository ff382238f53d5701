#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! A post the database refuses (a constraint the validation did not foresee) is dead-lettered
//! with its line, and the rest of its batch is stored: the batch is written again post by
//! post to find it.

use resonance_ingest::{FileFormat, import_file};
use resonance_store::testing::{TestDatabase, backends, refuse_posts_with_external_id};

const FILE: &str = r#"{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"p1","posted_time":"2026-10-01T12:00:00Z","likes":10,"comments":1,"caption":"one #food"}
{"type":"post","platform":"instagram","handle":"chef.anna","external_id":"refuse-me","posted_time":"2026-10-02T12:00:00Z","likes":20,"comments":2}
{"type":"post","platform":"instagram","handle":"chef.ben","external_id":"p3","posted_time":"2026-10-03T12:00:00Z","likes":30,"comments":3}
"#;

#[tokio::test]
async fn a_post_the_database_refuses_is_dead_lettered_and_its_batch_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("posts.jsonl");
    std::fs::write(&path, FILE).expect("write");
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("database");
        refuse_posts_with_external_id(&store, "refuse-me")
            .await
            .expect("trigger");

        let summary = import_file(&store, &path, FileFormat::Jsonl, |_| {})
            .await
            .expect("import");
        assert_eq!(
            (summary.counts.created, summary.counts.rejected),
            (2, 1),
            "{backend:?}: {summary:?}"
        );
        let rejection = &summary.rejections[0];
        assert_eq!(rejection.position, "line 2");
        assert!(
            rejection.message.contains("the database refused it"),
            "{rejection:?}"
        );
        for (handle, posts) in [("chef.anna", 1), ("chef.ben", 1)] {
            let creator = store
                .creators()
                .find(
                    resonance_core::Platform::Instagram,
                    &resonance_core::Handle::parse(handle).expect("handle"),
                )
                .await
                .expect("find")
                .expect("stored");
            assert_eq!(creator.stored_posts, posts, "{backend:?}: {handle}");
        }
        let letters = store
            .ingest()
            .list_dead_letters(None, Some(&summary.job.id), None, 10)
            .await
            .expect("dead letters");
        assert_eq!(letters.len(), 1, "{backend:?}");
        assert_eq!(letters[0].position, "line 2");
        assert!(letters[0].payload.contains("refuse-me"), "{:?}", letters[0]);

        // Again: the stored posts are unchanged, the refused one is refused again.
        let again = import_file(&store, &path, FileFormat::Jsonl, |_| {})
            .await
            .expect("import");
        assert_eq!(
            (again.counts.unchanged, again.counts.rejected),
            (2, 1),
            "{backend:?}: {again:?}"
        );
        store.close().await.expect("close");
        database.drop_database().await.expect("drop");
    }
}
