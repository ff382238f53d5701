//! Group commit: one transaction over several batches of a bulk import.
//!
//! Every SQLite commit writes each page it changed to the write-ahead log, whole. Posts of
//! many accounts arriving interleaved (a day's posts of 20,000 accounts) land all over the
//! posts table's (creator, external id) index, so a commit of 10,000 posts rewrites most of
//! that index's pages: at 1,000,000 posts that was several KB of log per post, and the
//! import ran at a third of the rate SQLite can insert. Committing every 200,000 posts
//! instead rewrites each page a twentieth as often, while batches (and memory) stay small.
//! PostgreSQL logs rows, not pages, but each commit waits for its log to reach the disk, and
//! each batch marked every creator it touched for rescoring: a queue entry locked and
//! rewritten per creator per batch. In one transaction a creator is marked once.
//!
//! [`GroupCommit`] is for a bulk import, whose records are reported when the import ends: it
//! keeps its transaction open across batches and commits after [`GROUP_POSTS`] posts or
//! [`GROUP_AGE`], whichever comes first, so other writers wait at most about that long (on
//! SQLite every other writer; on PostgreSQL a writer of the same posts or creators). Each
//! batch runs inside a savepoint, so a batch the database refuses rolls back alone; on
//! PostgreSQL a batch that lost a race to another writer rolls back to its savepoint and is
//! written again: in the same transaction if a post was stored meanwhile, after committing
//! the group if it was a deadlock (the other writer may be waiting for the group's earlier
//! posts). The import's counts are added
//! in the same transaction as the posts they count, and creators are marked for rescoring
//! once per commit rather than once per batch. Account ids read or created are remembered,
//! so a batch reads only accounts no earlier batch saw.
//!
//! On SQLite the commit does not checkpoint the log into the database file: a passive
//! checkpoint on another connection does, beside the writer, and when the log has grown past
//! 256 MiB the next transaction first rewinds it.
//! Anything else the import writes goes through the pool after [`GroupCommit::commit`]. If
//! the group is dropped before its commit (the import failed or was cancelled), its
//! transaction rolls back (on SQLite its connection is closed); what was committed stays,
//! and importing again is idempotent.
//!
//! SQLite in memory has no bulk writer: there every batch commits on its own, as
//! [`crate::CreatorRepo::upsert_posts`] does.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use resonance_core::{Handle, Platform, Post};
use rusqlite::params;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{ConnectionTrait as _, DbErr};

use crate::creators::{Key, WriteOutcome, to_i64};
use crate::posts::{self, sqlite, sqlite_error, sqlx_error};
use crate::{JobCounts, PreparedPosts, Store, StoreError};

/// Posts after which a group's transaction is committed. `bench/ingest.sh`, 1,000,000 posts
/// of 20,000 interleaved accounts into SQLite: commits of 10,000 posts ran at 64k posts/s
/// (before migration 14), of 100,000 at 171-206k and of 200,000 at 218-232k (both with
/// migration 14 and the checkpoints beside the writer, see [`GroupCommit`]). SQLite's page
/// cache spills what does not fit to the log, so memory does not grow with the group.
pub const GROUP_POSTS: usize = 200_000;

/// How long a group's transaction stays open at most (checked after each batch): how long
/// another writer may wait for the import.
pub const GROUP_AGE: Duration = Duration::from_secs(1);

/// Log frames (pages) past which a group rewinds the write-ahead log before its next
/// transaction: 256 MiB of 4 KiB pages.
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Keep at most this many account ids between batches.
const KNOWN_ACCOUNTS: usize = 100_000;

/// Batches of one import, committed together (see the module docs).
#[derive(Debug)]
pub struct GroupCommit {
    store: Store,
    open: Option<Open>,
    /// Account ids read or created by committed transactions: creators are never deleted.
    known: HashMap<Key, i64>,
    /// The last checkpoint started.
    checkpoint: Option<tokio::task::JoinHandle<Option<i64>>>,
}

/// A transaction in progress.
#[derive(Debug)]
struct Open {
    connection: Connection,
    began: Instant,
    posts: usize,
    /// Accounts created in this transaction, not yet in `known` (a rollback forgets them).
    new_accounts: HashMap<Key, i64>,
    /// Creators whose posts changed, to mark for rescoring at commit.
    changed: BTreeSet<i64>,
    /// Job counts to add at commit, by job.
    counts: Vec<(String, JobCounts)>,
    now: DateTime<Utc>,
}

/// The open transaction's connection.
#[derive(Debug)]
enum Connection {
    Sqlite(Held),
    /// Rolled back by sqlx if dropped before its commit.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A pooled connection inside a transaction: closed if dropped before it is released, so
/// that the transaction rolls back and the pool never hands out a connection mid-transaction.
#[derive(Debug)]
struct Held {
    connection: PoolConnection<Sqlite>,
    released: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.released {
            self.connection.close_on_drop();
        }
    }
}

impl std::ops::Deref for Held {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.connection
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.connection
    }
}

impl Store {
    /// A group commit for a bulk import (see [`GroupCommit`]).
    pub fn group_commit(&self) -> GroupCommit {
        GroupCommit {
            store: self.clone(),
            open: None,
            known: HashMap::new(),
            checkpoint: None,
        }
    }
}

impl GroupCommit {
    /// Inserts or updates posts as [`crate::CreatorRepo::upsert_posts`] does, in the group's
    /// transaction on SQLite: the outcomes hold once the group commits.
    pub async fn upsert_posts(
        &mut self,
        posts: &[(Platform, Handle, Post, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.upsert_prepared(&PreparedPosts::from(posts), now).await
    }

    /// Inserts or updates posts already prepared for writing, as [`Self::upsert_posts`] does.
    pub async fn upsert_prepared(
        &mut self,
        posts: &PreparedPosts,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        if posts.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(pool) = self.store.bulk_writer.clone() {
            return self.upsert_sqlite(&pool, posts, now).await;
        }
        if self.store.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            return self.upsert_postgres(posts, now).await;
        }
        // SQLite in memory: each batch commits on its own.
        posts::upsert(&self.store.db, None, posts, now, &mut self.known).await
    }

    async fn upsert_postgres(
        &mut self,
        posts: &PreparedPosts,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let inputs = posts.inputs();
        let mut deadlocked = false;
        let (mut open, written) = loop {
            let mut open = match self.open.take() {
                Some(open) => open,
                None => self.begin_postgres().await?,
            };
            let Connection::Postgres(txn) = &mut open.connection else {
                return Err(StoreError::Corrupt(
                    "a PostgreSQL group holds a SQLite transaction".to_owned(),
                ));
            };
            let known = [&self.known, &open.new_accounts];
            match posts::postgres::write_grouped(txn, inputs, now, &known).await {
                Ok(written) => break (open, written),
                // A deadlock with another writer, which may be waiting for a post of this
                // group's earlier batches: a retry inside the group could meet it again, so
                // the group commits (releasing its locks) and the batch is written in a new
                // transaction, once.
                Err(StoreError::Unavailable(_)) if !deadlocked => {
                    deadlocked = true;
                    self.open = Some(open);
                    self.commit().await?;
                }
                // Refused (or deadlocked again): the batch rolled back to its savepoint and
                // the group goes on. Any other failure lost the transaction: the group is
                // dropped with it.
                Err(error @ (StoreError::Refused(_) | StoreError::Unavailable(_))) => {
                    self.open = Some(open);
                    return Err(error);
                }
                Err(error) => return Err(error),
            }
        };
        open.new_accounts.extend(written.accounts);
        open.changed.extend(written.changed);
        open.posts += inputs.len();
        open.now = now;
        self.open = Some(open);
        Ok(written.outcomes)
    }

    async fn upsert_sqlite(
        &mut self,
        pool: &sqlx::SqlitePool,
        posts: &PreparedPosts,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let inputs = std::sync::Arc::clone(posts.inputs());
        let count = inputs.len();
        let mut open = match self.open.take() {
            Some(open) => open,
            None => self.begin_sqlite(pool).await?,
        };
        let Connection::Sqlite(connection) = open.connection else {
            return Err(StoreError::Corrupt(
                "a SQLite group holds a PostgreSQL transaction".to_owned(),
            ));
        };
        // The account ids cross to the blocking thread and come back.
        let known = std::mem::take(&mut self.known);
        let new_accounts = std::mem::take(&mut open.new_accounts);
        let (connection, result) = sqlite::on_handle(connection, move |db| {
            let written = (|| {
                let savepoint = db.savepoint().map_err(sqlite_error)?;
                let written =
                    sqlite::write_batch(&savepoint, &inputs, now, &[&known, &new_accounts])?;
                savepoint.commit().map_err(sqlite_error)?;
                Ok(written)
            })();
            // Some failures (a full disk, an I/O error) make SQLite roll back the whole
            // transaction: then the group's earlier batches are gone too, and it must not go
            // on as if they were not.
            let written = match written {
                Err(error) if db.is_autocommit() => Err(StoreError::Database(DbErr::Custom(
                    format!("the import's transaction was rolled back: {error}"),
                ))),
                written => written,
            };
            Ok((known, new_accounts, written))
        })
        .await?;
        open.connection = Connection::Sqlite(connection);
        let (known, new_accounts, written) = result?;
        self.known = known;
        open.new_accounts = new_accounts;
        // A batch that failed rolled back to its savepoint; the group goes on without it.
        let written = match written {
            Ok(written) => written,
            Err(error) => {
                self.open = Some(open);
                return Err(error);
            }
        };
        open.new_accounts.extend(written.new_accounts);
        open.changed.extend(written.changed);
        open.posts += count;
        open.now = now;
        self.open = Some(open);
        Ok(written.outcomes)
    }

    /// Adds to a job's counts: in the group's transaction when one is open (so the counts
    /// commit with the records they count), at once otherwise.
    pub async fn add_counts(&mut self, job_id: &str, counts: JobCounts) -> Result<(), StoreError> {
        match &mut self.open {
            Some(open) => {
                match open.counts.iter_mut().find(|(id, _)| id == job_id) {
                    Some((_, total)) => *total += counts,
                    None => open.counts.push((job_id.to_owned(), counts)),
                }
                Ok(())
            }
            None => self.store.ingest().add_counts(job_id, counts).await,
        }
    }

    /// Commits if the transaction holds [`GROUP_POSTS`] posts or has been open [`GROUP_AGE`].
    pub async fn commit_if_due(&mut self) -> Result<(), StoreError> {
        match &self.open {
            Some(open) if open.posts >= GROUP_POSTS || open.began.elapsed() >= GROUP_AGE => {
                self.commit().await
            }
            _ => Ok(()),
        }
    }

    /// Commits what the group holds, if anything: its posts, their creators' rescoring marks
    /// and the job counts added meanwhile.
    pub async fn commit(&mut self) -> Result<(), StoreError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let Open {
            connection,
            changed,
            counts,
            now,
            new_accounts,
            ..
        } = open;
        let deadline = crate::deadline::current();
        let connection = match connection {
            Connection::Sqlite(connection) => connection,
            Connection::Postgres(mut txn) => {
                // Dropped on failure: sqlx rolls the transaction back.
                let changed: Vec<i64> = changed.into_iter().collect();
                posts::postgres::mark(&mut txn, &changed, now).await?;
                for (job_id, counts) in &counts {
                    sqlx::query(
                        "UPDATE ingest_jobs SET created = created + $2, updated = updated + $3, \
                         unchanged = unchanged + $4, rejected = rejected + $5 WHERE id = $1",
                    )
                    .bind(job_id)
                    .bind(to_i64(counts.created))
                    .bind(to_i64(counts.updated))
                    .bind(to_i64(counts.unchanged))
                    .bind(to_i64(counts.rejected))
                    .execute(&mut *txn)
                    .await
                    .map_err(sqlx_error)?;
                }
                crate::deadline::check_commit(deadline)?;
                txn.commit().await.map_err(sqlx_error)?;
                self.learn(new_accounts);
                return Ok(());
            }
        };
        let (mut connection, result) = sqlite::on_handle(connection, move |db| {
            sqlite::mark(db, changed, now)?;
            let mut add = db
                .prepare(
                    "UPDATE ingest_jobs SET created = created + ?2, updated = updated + ?3, \
                     unchanged = unchanged + ?4, rejected = rejected + ?5 WHERE id = ?1",
                )
                .map_err(sqlite_error)?;
            for (job_id, counts) in &counts {
                add.execute(params![
                    job_id,
                    to_i64(counts.created),
                    to_i64(counts.updated),
                    to_i64(counts.unchanged),
                    to_i64(counts.rejected),
                ])
                .map_err(sqlite_error)?;
            }
            crate::deadline::check_commit(deadline)?;
            db.execute_batch(&format!(
                "COMMIT; PRAGMA wal_autocheckpoint = {}",
                crate::WAL_AUTOCHECKPOINT_PAGES
            ))
            .map_err(sqlite_error)
        })
        .await?;
        // Dropped without release on failure: the connection closes and the transaction rolls back.
        result?;
        connection.released = true;
        self.checkpoint();
        self.learn(new_accounts);
        Ok(())
    }

    /// Keeps the account ids a commit made hold.
    fn learn(&mut self, accounts: HashMap<Key, i64>) {
        if self.known.len() + accounts.len() > KNOWN_ACCOUNTS {
            self.known.clear();
        }
        self.known.extend(accounts);
    }

    /// Copies the log's committed pages into the database file on another connection, while
    /// the group goes on writing (a passive checkpoint waits for nobody): on the writer's own
    /// connection, the commit would do it and the writer would wait. One at a time.
    fn checkpoint(&mut self) {
        if self
            .checkpoint
            .as_ref()
            .is_some_and(|running| !running.is_finished())
        {
            return;
        }
        let db = self.store.db.clone();
        self.checkpoint = Some(tokio::spawn(async move {
            let statement = sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA wal_checkpoint(PASSIVE)",
            );
            // (busy, frames in the log, frames copied)
            match db.query_one_raw(statement).await {
                Ok(row) => row.and_then(|row| row.try_get_by_index::<i64>(1).ok()),
                Err(error) => {
                    tracing::warn!(%error, "could not checkpoint the write-ahead log");
                    None
                }
            }
        }));
    }

    /// Whether the log has grown past [`WAL_RESTART_FRAMES`], by the last checkpoint's count.
    /// A passive checkpoint copies pages but cannot rewind the log while a writer keeps
    /// appending to it, so without a pause the log would grow as large as the import.
    async fn log_is_long(&mut self) -> bool {
        match self.checkpoint.take_if(|running| running.is_finished()) {
            Some(done) => done
                .await
                .ok()
                .flatten()
                .is_some_and(|frames| frames > WAL_RESTART_FRAMES),
            None => false,
        }
    }

    async fn begin_postgres(&mut self) -> Result<Open, StoreError> {
        let bound = crate::deadline::statement_timeout()?;
        let mut txn = self
            .store
            .db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(sqlx_error)?;
        if let Some(bound) = bound {
            sqlx::query(sqlx::AssertSqlSafe(bound))
                .execute(&mut *txn)
                .await
                .map_err(sqlx_error)?;
        }
        Ok(Open::new(Connection::Postgres(txn)))
    }

    async fn begin_sqlite(&mut self, pool: &sqlx::SqlitePool) -> Result<Open, StoreError> {
        let connection = pool.acquire().await.map_err(sqlx_error)?;
        let restart = self.log_is_long().await;
        let (connection, result) = sqlite::on_handle(connection, move |db| {
            if restart {
                // Copies what is left and rewinds the log, so the next commit writes at its
                // start (and `journal_size_limit` trims the file).
                db.execute_batch("PRAGMA wal_checkpoint(RESTART)")
                    .map_err(sqlite_error)?;
            }
            // The commit does not checkpoint (`checkpoint` does, beside the writer).
            // IMMEDIATE: the write lock first, so that the group never deadlocks upgrading.
            db.execute_batch("PRAGMA wal_autocheckpoint = 0; BEGIN IMMEDIATE")
                .map_err(sqlite_error)
        })
        .await?;
        result?;
        Ok(Open::new(Connection::Sqlite(Held {
            connection,
            released: false,
        })))
    }
}

impl Open {
    fn new(connection: Connection) -> Self {
        Self {
            connection,
            began: Instant::now(),
            posts: 0,
            new_accounts: HashMap::new(),
            changed: BTreeSet::new(),
            counts: Vec::new(),
            now: Utc::now(),
        }
    }
}
