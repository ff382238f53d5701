#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Follower samples and audience members through the canonical JSONL format: stored per
//! account, bad entries named by their index, and a repeated file changing nothing.

use resonance_core::{Handle, Platform};
use resonance_ingest::import_jsonl;
use resonance_store::testing::{TestDatabase, backends};

const FILE: &str = r#"{"type":"follower_sample","platform":"instagram","handle":"chef.anna","followers":[{"id":"u1","followers":12,"following":4100},{"id":"u2","followers":300,"following":280,"media_count":45,"has_profile_picture":true}]}
{"type":"audience","platform":"instagram","handle":"chef.anna","member_ids":["u1","u2","u3","u4"]}
{"type":"audience","platform":"instagram","handle":"chef.bo","member_ids":["u3","u4","u5"]}
{"type":"follower_sample","platform":"instagram","handle":"chef.bo","followers":[{"id":"u9","following":-1}]}
{"type":"audience","platform":"instagram","handle":"chef.bo","member_ids":["u6"," "]}
"#;

#[tokio::test]
async fn samples_and_audiences_are_stored_and_bad_entries_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audiences.jsonl");
    std::fs::write(&path, FILE).expect("write");
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("database");
        let summary = import_jsonl(&store, &path, |_| {}).await.expect("import");
        assert_eq!(
            (summary.counts.created, summary.counts.rejected),
            (3, 2),
            "{summary:?}"
        );
        let rejected: Vec<(&str, &str)> = summary
            .rejections
            .iter()
            .map(|r| (r.position.as_str(), r.field.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                ("line 4", "followers[0].following"),
                ("line 5", "member_ids[1]")
            ]
        );

        let creators = store.creators();
        let find = |handle: &str| Handle::parse(handle).expect("handle");
        let anna = creators
            .find(Platform::Instagram, &find("chef.anna"))
            .await
            .expect("read")
            .expect("anna");
        let bo = creators
            .find(Platform::Instagram, &find("chef.bo"))
            .await
            .expect("read")
            .expect("bo");
        let sample = creators
            .follower_samples(anna.id, 10)
            .await
            .expect("sample");
        assert_eq!(sample.len(), 2);
        assert_eq!((sample[0].id.as_str(), sample[0].following), ("u1", 4_100));
        let anna_audience = creators
            .audience(anna.id)
            .await
            .expect("read")
            .expect("sketch");
        let bo_audience = creators
            .audience(bo.id)
            .await
            .expect("read")
            .expect("sketch");
        assert_eq!(anna_audience.estimate().round(), 4.0);
        let overlap = resonance_core::audience::overlap_estimate(&anna_audience, &bo_audience);
        assert_eq!(overlap.round(), 2.0, "u3 and u4 follow both");

        let again = import_jsonl(&store, &path, |_| {}).await.expect("again");
        assert_eq!(
            (
                again.counts.created,
                again.counts.updated,
                again.counts.unchanged
            ),
            (0, 0, 3)
        );
        store.close().await.expect("close");
        database.drop_database().await.expect("drop");
    }
}
