//! SQLite: the posts table is rebuilt without `AUTOINCREMENT` and without its foreign key to
//! creators.
//!
//! Both cost the bulk import on every post inserted. `AUTOINCREMENT` reads and rewrites the
//! table's row in `sqlite_sequence` on each insert; without it SQLite takes the largest id plus
//! one from the table's own B-tree. Ids stay unique and increasing; an id could be reused only
//! after the post holding the largest one was deleted, and posts are never deleted (the campaign
//! attributions that reference a deleted post would go with it, by their own foreign key).
//! The foreign key to creators looks the creator up in its table for each post; the one code
//! path that writes posts (`crate::posts`) finds or creates every post's creator in the same
//! transaction first, and creators are never deleted, so the check only confirmed what that
//! path guarantees. Migration 12 dropped the same key on PostgreSQL; the store's tests check
//! the guarantee on both backends. Measured in `bench/RESULTS.md` ("SQLite posts without
//! AUTOINCREMENT").
//!
//! SQLite cannot alter either in place: the table is rebuilt by the procedure SQLite documents
//! (<https://sqlite.org/lang_altertable.html#otheralter>), on one connection, with foreign keys
//! off so that dropping the old table does not cascade to `campaign_posts`, and checked before
//! it commits. Ids are copied, so `campaign_posts` still points at the same posts.

use sea_orm::sqlx::{self, Connection as _, Row as _};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The columns, in the order migrations 1 and 3 created them.
const COLUMNS: &str = "\"id\", \"creator_id\", \"external_id\", \"posted_at\", \"format\", \
    \"likes\", \"comments\", \"shares\", \"saves\", \"views\", \"caption\", \"hashtags\", \
    \"mentions\", \"paid_partnership\", \"url\", \"updated_at\", \"observed_at\"";

/// The table as migrations 1 and 3 made it, with `id` as written here and `tail` after the
/// last column.
fn create(table: &str, id: &str, tail: &str) -> String {
    format!(
        "CREATE TABLE \"{table}\" ( \"id\" integer NOT NULL PRIMARY KEY{id}, \
         \"creator_id\" integer NOT NULL, \"external_id\" varchar(200) NOT NULL, \
         \"posted_at\" timestamp_with_timezone_text NOT NULL, \"format\" varchar(16) NOT NULL, \
         \"likes\" integer NULL, \"comments\" integer NULL, \"shares\" integer NULL, \
         \"saves\" integer NULL, \"views\" integer NULL, \"caption\" text NOT NULL, \
         \"hashtags\" text NOT NULL, \"mentions\" text NOT NULL, \
         \"paid_partnership\" boolean NOT NULL, \"url\" text NULL, \
         \"updated_at\" timestamp_with_timezone_text NOT NULL, \
         \"observed_at\" timestamp_with_timezone_text NULL{tail} )"
    )
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rewrites lifetimes; an explicit '_ no longer matches the trait"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, create("posts_rebuilt", "", ""), false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tail =
            ", FOREIGN KEY (\"creator_id\") REFERENCES \"creators\" (\"id\") ON DELETE CASCADE";
        rebuild(
            manager,
            create("posts_rebuilt", " AUTOINCREMENT", tail),
            true,
        )
        .await
    }
}

/// Rebuilds posts on SQLite as `definition` (of a table named `posts_rebuilt`), unless it
/// already is what this migration's direction makes (`autoincrement`): SQLite migrations do
/// not run in a transaction, so a process stopped after the rebuild committed runs it again.
async fn rebuild(
    manager: &SchemaManager<'_>,
    definition: String,
    autoincrement: bool,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return Ok(());
    }
    let sea_orm::DatabaseExecutor::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(
            "rebuilding the posts table turns foreign keys off, which SQLite ignores inside a \
             transaction: run this migration outside one"
                .to_owned(),
        ));
    };
    let error = |e: sqlx::Error| DbErr::Migration(format!("rebuilding the posts table: {e}"));
    // One connection for every step (foreign keys are a connection's setting), closed rather
    // than returned to the pool if a step fails.
    let mut connection = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(error)?
        .detach();
    let result = async {
        let sql: String = sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'posts'")
            .fetch_one(&mut connection)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(error)?;
        if sql.contains("AUTOINCREMENT") == autoincrement {
            return Ok(());
        }
        sqlx::raw_sql("PRAGMA foreign_keys = OFF")
            .execute(&mut connection)
            .await
            .map_err(error)?;
        let mut txn = connection
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(error)?;
        let steps = format!(
            "{definition}; \
             INSERT INTO posts_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM posts; \
             DROP TABLE posts; \
             ALTER TABLE posts_rebuilt RENAME TO posts; \
             CREATE UNIQUE INDEX \"ux_posts_creator_external\" ON \"posts\" (\"creator_id\", \"external_id\"); \
             DELETE FROM sqlite_sequence WHERE name = 'posts'"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(steps))
            .execute(&mut *txn)
            .await
            .map_err(error)?;
        // Every reference still finds its row (the ids were copied).
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *txn)
            .await
            .map_err(error)?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0).map_err(error)?;
            return Err(DbErr::Migration(format!(
                "rebuilding the posts table: {} rows of {table} (and perhaps other tables) \
                 reference a row that is gone; nothing was changed",
                broken.len()
            )));
        }
        txn.commit().await.map_err(error)?;
        sqlx::raw_sql("PRAGMA foreign_keys = ON")
            .execute(&mut connection)
            .await
            .map_err(error)?;
        Ok(())
    }
    .await;
    let closed = connection.close().await;
    result?;
    closed.map_err(error)
}
