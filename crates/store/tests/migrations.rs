#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the library"
)]

//! Migrations that rewrite stored data, run over a database holding some: what was stored is
//! still there afterwards, and going down and up again keeps it too.

use resonance_store::Migrator;
use resonance_store::testing::{Backend, TestDatabase};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait as _;
use secrecy::ExposeSecret as _;

/// Migrations before the posts table's rebuild on SQLite (migration 16).
const BEFORE_REBUILD: u32 = 15;

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
    db.query_all_raw(statement)
        .await
        .expect(sql)
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

async fn posts_sql(db: &DatabaseConnection) -> String {
    rows(db, "SELECT sql FROM sqlite_master WHERE name = 'posts'")
        .await
        .concat()
}

/// Every post (id and columns) and every campaign attribution, as text.
async fn stored(db: &DatabaseConnection) -> (Vec<String>, Vec<String>) {
    let posts = rows(
        db,
        "SELECT id || '|' || creator_id || '|' || external_id || '|' || posted_at || '|' || \
         format || '|' || ifnull(likes, '-') || '|' || caption || '|' || hashtags || '|' || \
         ifnull(observed_at, '-') \
         FROM posts ORDER BY id",
    )
    .await;
    let attributions = rows(
        db,
        "SELECT campaign_id || '|' || post_id || '|' || creator_id || '|' || matched_by \
         FROM campaign_posts ORDER BY campaign_id, post_id",
    )
    .await;
    (posts, attributions)
}

#[tokio::test]
async fn sqlite_posts_rebuild_keeps_posts_ids_and_attributions() {
    let database = TestDatabase::create(Backend::Sqlite)
        .await
        .expect("test database");
    let url = format!("{}?mode=rwc", database.config.url.expose_secret());
    let db = Database::connect(url).await.expect("connect");
    Migrator::up(&db, Some(BEFORE_REBUILD))
        .await
        .expect("migrations before the rebuild");
    assert!(posts_sql(&db).await.contains("AUTOINCREMENT"));
    db.execute_unprepared(
        "INSERT INTO creators (platform, handle, display_name, bio, verified, is_private, \
         has_profile_picture, categories, created_at, updated_at) VALUES \
         ('instagram', 'ada', '', '', 0, 0, 0, '[]', '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z'); \
         INSERT INTO brands (name, created_at) VALUES ('Acme', '2026-10-01T00:00:00Z'); \
         INSERT INTO campaigns (brand_id, display_name, goal, status, currency, budget_micros, \
         start_at, end_at, niches, platforms, hashtags, mentions, promo_codes, created_at, \
         updated_at, version) VALUES (1, 'Launch', 'engagement', 'active', 'USD', 1000000, \
         '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', '[]', '[]', '[\"acme\"]', '[]', '[]', \
         '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z', 1); \
         INSERT INTO posts (id, creator_id, external_id, posted_at, format, likes, comments, \
         shares, saves, views, caption, hashtags, mentions, paid_partnership, url, updated_at, \
         observed_at) VALUES \
         (7, 1, 'p1', '2026-10-02T10:00:00Z', 'reel', 120, 4, NULL, NULL, 900, 'first', \
          '[\"acme\"]', '[]', 1, NULL, '2026-10-03T00:00:00Z', '2026-10-03T00:00:00Z'), \
         (40, 1, 'p2', '2026-10-04T10:00:00Z', 'image', 80, 2, 1, 0, NULL, 'second\nline', \
          '[]', '[]', 0, 'https://example.com/p2', '2026-10-05T00:00:00Z', '2026-10-05T00:00:00Z'); \
         INSERT INTO campaign_posts (campaign_id, post_id, creator_id, posted_at, matched_by, \
         attributed_at) VALUES (1, 7, 1, '2026-10-02T10:00:00Z', 'hashtag', '2026-10-03T00:00:00Z')",
    )
    .await
    .expect("data stored before the rebuild");
    let before = stored(&db).await;

    Migrator::up(&db, None).await.expect("the rebuild");
    let sql = posts_sql(&db).await;
    assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
    assert!(!sql.contains("REFERENCES"), "{sql}");
    assert_eq!(stored(&db).await, before, "posts and attributions survive");
    // New posts take ids after the largest, and an attribution's post is still its own.
    db.execute_unprepared(
        "INSERT INTO posts (creator_id, external_id, posted_at, format, caption, hashtags, \
         mentions, paid_partnership, updated_at) VALUES \
         (1, 'p3', '2026-10-06T10:00:00Z', 'reel', '', '[]', '[]', 0, '2026-10-07T00:00:00Z')",
    )
    .await
    .expect("a new post");
    assert_eq!(
        rows(
            &db,
            "SELECT CAST(id AS TEXT) FROM posts WHERE external_id = 'p3'"
        )
        .await,
        ["41"]
    );
    let broken = rows(
        &db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM pragma_foreign_key_check",
    )
    .await;
    assert_eq!(broken, ["0"]);
    // Deleting a post still removes its attributions: campaign_posts' key now points at the
    // rebuilt table.
    db.execute_unprepared("DELETE FROM posts WHERE id = 7")
        .await
        .expect("delete");
    assert!(
        rows(&db, "SELECT CAST(post_id AS TEXT) FROM campaign_posts")
            .await
            .is_empty()
    );

    // Down again restores the key and AUTOINCREMENT, and the posts with them.
    let after = stored(&db).await;
    Migrator::down(&db, Some(1)).await.expect("down");
    let sql = posts_sql(&db).await;
    assert!(
        sql.contains("AUTOINCREMENT") && sql.contains("REFERENCES"),
        "{sql}"
    );
    assert_eq!(stored(&db).await, after);
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(stored(&db).await, after);
    db.close().await.expect("close");
    database.drop_database().await.expect("drop test database");
}
