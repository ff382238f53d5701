#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Conversions belong to a brand: a file imported for a brand stores them under it (once, by
//! order id); imported without a brand they are dead-lettered, named, and nothing else is lost.

use resonance_ingest::{FileFormat, import_file, import_file_for};
use resonance_store::testing::{TestDatabase, backends};

const FILE: &str = r#"{"type":"conversion","order_id":"o-1","promo_code":"ANNA10","occurred_time":"2026-11-02T09:30:00Z","revenue":42.1,"currency":"USD"}
{"type":"conversion","order_id":"o-2","tracking_url":"https://shop.example/r/anna","occurred_time":"2026-11-02T10:00:00Z","revenue":10,"currency":"usd"}
{"type":"conversion","order_id":"o-3","occurred_time":"2026-11-02T10:00:00Z","revenue":10,"currency":"USD"}
{"type":"conversion","order_id":"o-4","promo_code":"ANNA10","occurred_time":"2026-11-02T10:00:00Z","revenue":-5,"currency":"USD"}
{"type":"profile","platform":"instagram","handle":"chef.anna","followers":20000}
"#;

#[tokio::test]
async fn conversions_are_stored_for_the_importing_brand_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.jsonl");
    std::fs::write(&path, FILE).expect("write");
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("database");
        let (brand, _) = store
            .brands()
            .create("Acme", chrono::Utc::now())
            .await
            .expect("brand");

        // Without a brand: every conversion is refused by name; the profile is stored.
        let summary = import_file(&store, &path, FileFormat::Jsonl, |_| {})
            .await
            .expect("import");
        assert_eq!((summary.counts.created, summary.counts.rejected), (1, 4));
        assert!(
            summary.rejections[0].message.contains("--brand"),
            "{:?}",
            summary.rejections[0]
        );

        // For a brand: two orders stored, the one without a code or link and the negative one
        // named; a second import changes nothing.
        let summary = import_file_for(&store, &path, FileFormat::Jsonl, Some(brand.id), |_| {})
            .await
            .expect("import");
        assert_eq!(
            (
                summary.counts.created,
                summary.counts.unchanged,
                summary.counts.rejected
            ),
            (2, 1, 2),
            "{summary:?}"
        );
        let fields: Vec<&str> = summary
            .rejections
            .iter()
            .map(|r| r.field.as_str())
            .collect();
        assert_eq!(fields, ["promo_code", "revenue"]);
        let again = import_file_for(&store, &path, FileFormat::Jsonl, Some(brand.id), |_| {})
            .await
            .expect("import");
        assert_eq!((again.counts.created, again.counts.unchanged), (0, 3));

        let orders = store
            .campaigns()
            .conversions(
                brand.id,
                &["anna10".to_owned()],
                &["https://shop.example/r/anna".to_owned()],
                "2026-11-01T00:00:00Z".parse().expect("time"),
                "2026-11-03T00:00:00Z".parse().expect("time"),
            )
            .await
            .expect("conversions");
        let revenue: Vec<(String, i64)> = orders
            .iter()
            .map(|o| (o.revenue.currency.clone(), o.revenue.micros))
            .collect();
        assert_eq!(
            revenue,
            [
                ("USD".to_owned(), 42_100_000),
                ("USD".to_owned(), 10_000_000)
            ]
        );

        store.close().await.expect("close");
        database.drop_database().await.expect("drop");
    }
}
