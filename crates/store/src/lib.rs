//! Resonance storage: sea-orm entities, migrations and repositories.
//!
//! SQLite (a file, WAL mode) is the embedded default; PostgreSQL is selected by a
//! `postgres://` database URL. Every query here runs on both.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

mod attribution;
mod audiences;
pub mod brands;
pub mod campaigns;
pub mod creators;
pub mod deadline;
pub mod entity;
mod group;
pub mod ingest;
mod migration;
pub mod owned;
mod posts;
pub mod rosters;
pub mod scores;
#[cfg(feature = "testing")]
pub mod testing;

pub use brands::{ApiKeyInfo, Brand, BrandId, BrandRepo, NewApiKey};
pub use campaigns::{
    AttributedPost, Campaign, CampaignRepo, Deliverable, DeliverableCreateError, MatchedBy,
};
pub use creators::{CreatorRepo, StoredCreator, WriteOutcome};
pub use group::{GROUP_AGE, GROUP_POSTS, GroupCommit};
pub use ingest::{DeadLetterInput, IngestRepo, JobCounts, JobState, StoredDeadLetter, StoredJob};
pub use migration::Migrator;
pub use owned::{ChangeError, Owned};
pub use posts::PreparedPosts;
pub use rosters::{EntryCreateError, EntryView, Rate, Roster, RosterEntry, RosterRepo, RosterView};
pub use scores::{
    PopulationMember, QueueEntry, QueueLag, ScoreRecord, ScoreRepo, ScoringInput, SearchHit,
    SearchQuery, SearchSort,
};

/// A list limit that reads every row (the largest LIMIT both databases accept).
pub const NO_LIMIT: u64 = i64::MAX as u64;

/// Storage errors.
/// - `Unavailable`: the database is unreachable, overloaded, or lost a race (busy, locked,
///   deadlock, serialization failure); the same write is worth retrying.
/// - `Refused`: the database refused this data (a constraint or a value it cannot hold);
///   retrying the same data will not help, but the rest of a batch can still be written.
/// - `Database`: anything else the database reported (a bug, not the data's fault).
/// - `Corrupt`: stored data that no longer parses as a domain value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    #[error("the database refused the data: {0}")]
    Refused(DbErr),
    #[error("database error: {0}")]
    Database(DbErr),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// The call this operation served ran out of time (see [`deadline`]); nothing was written.
    #[error("the call's deadline passed; the transaction was rolled back")]
    DeadlineExceeded,
}

impl StoreError {
    /// Whether the same call is worth retrying later (the database is unreachable, overloaded
    /// or lost a race), as opposed to a failure retrying will not mend.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Begins a write transaction bounded by the current call's deadline, if any (see
/// [`deadline`]).
///
/// On SQLite it is `BEGIN IMMEDIATE`: it takes the database's write lock first, waiting for
/// it up to the busy timeout. A deferred transaction reads first and asks for the lock at its
/// first write; if another connection committed in between, SQLite refuses at once with
/// SQLITE_BUSY ("database is locked") instead of waiting, because the reads are out of date.
/// An import then failed whenever the scoring worker stored scores between its reads and its
/// writes.
pub(crate) async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, StoreError> {
    let bound = deadline::statement_timeout()?;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    if let Some(bound) = bound
        && db.get_database_backend() == DbBackend::Postgres
    {
        txn.execute_unprepared(&bound).await?;
    }
    Ok(txn)
}

/// Commits a transaction begun by [`begin`], unless the current call's deadline is (nearly)
/// up: then it rolls back and fails with [`StoreError::DeadlineExceeded`].
pub(crate) async fn commit(txn: DatabaseTransaction) -> Result<(), StoreError> {
    if let Err(late) = deadline::check_commit(deadline::current()) {
        txn.rollback().await?;
        return Err(late);
    }
    txn.commit().await?;
    Ok(())
}

/// Runs `write` in one transaction of [`begin`] and [`commit`]: a single-statement write a
/// call makes, so that it too is bounded by the call's deadline and cannot land after it.
pub(crate) async fn bounded<T>(
    db: &DatabaseConnection,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let txn = begin(db).await?;
    let value = write(&txn).await?;
    commit(txn).await?;
    Ok(value)
}

/// How a SQLite result code (extended or primary; the primary code is the low byte) should
/// be handled, whichever driver reported it (sqlx, or rusqlite in the bulk post writer).
pub(crate) fn classify_sqlite(code: i32) -> ErrorClass {
    match code & 0xff {
        18..=20 => ErrorClass::Refusal, // TOOBIG, CONSTRAINT, MISMATCH
        5 | 6 | 10 | 13 | 14 | 15 => ErrorClass::Transient, // BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL
        _ => ErrorClass::Other,
    }
}

/// How a database error should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    Transient,
    Refusal,
    Other,
}

fn classify(error: &DbErr) -> ErrorClass {
    use sea_orm::{RuntimeErr, sqlx};
    let sqlx_error = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return ErrorClass::Transient,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return ErrorClass::Other,
    };
    match &**sqlx_error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => ErrorClass::Transient,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // SQLSTATE classes: 22 data exception, 23 integrity constraint; 08 connection,
                // 40 transaction rollback (serialization, deadlock), 53 insufficient resources,
                // 57 operator intervention (shutdown).
                match code.get(..2) {
                    Some("22" | "23") => ErrorClass::Refusal,
                    Some("08" | "40" | "53" | "57") => ErrorClass::Transient,
                    _ => ErrorClass::Other,
                }
            } else {
                code.parse::<i32>()
                    .map_or(ErrorClass::Other, classify_sqlite)
            }
        }
        _ => ErrorClass::Other,
    }
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        match classify(&error) {
            // A statement PostgreSQL cancelled at the deadline (statement_timeout), or any
            // transient failure once the call's time is up: the deadline is the cause.
            ErrorClass::Transient if deadline::passed() => StoreError::DeadlineExceeded,
            ErrorClass::Transient => StoreError::Unavailable(error),
            ErrorClass::Refusal => StoreError::Refused(error),
            ErrorClass::Other => StoreError::Database(error),
        }
    }
}

/// The `[database]` configuration section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created if missing) or `postgres://USER@HOST:PORT/DB`.
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// How long a query waits for a pooled connection before failing as unavailable.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// Apply pending migrations when a service starts (`resonance migrate` does it explicitly).
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://resonance.db"),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            migrate_on_start: true,
        }
    }
}

impl DatabaseConfig {
    pub fn with_url(url: &str) -> Self {
        Self {
            url: SecretString::from(url),
            ..Self::default()
        }
    }
}

/// How long SQLite waits on a lock held by another connection before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Checkpoint SQLite's write-ahead log at 64 MiB rather than 4 MiB: a page rewritten by
/// several bulk commits is then copied to the database file once.
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: &str = "16384";

/// SQLite's bulk writer: one connection (SQLite has one writer at a time anyway) with a page
/// cache of up to 32 MiB instead of 2 MiB, so that ingestion keeps the indexes' pages in memory
/// between batches; opened on first use. One connection, so that the cache is paid for once,
/// not by every pooled connection.
fn bulk_writer(
    url: &str,
    config: &DatabaseConfig,
) -> Result<sea_orm::sqlx::SqlitePool, StoreError> {
    use std::str::FromStr as _;

    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Config(format!("database.url: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("cache_size", "-32768")
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
        // A log rewound after a bulk import's growth is cut back to 64 MiB.
        .pragma("journal_size_limit", "67108864");
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(config.acquire_timeout)
        .connect_lazy_with(options))
}

/// A connection pool to the system of record, with its repositories.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite only: the connection posts are bulk-written on.
    bulk_writer: Option<sea_orm::sqlx::SqlitePool>,
}

impl Store {
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        let url = config.url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(StoreError::Config(
                "database.url must start with sqlite:, postgres:// or postgresql://".to_owned(),
            ));
        }
        if config.max_connections == 0 {
            return Err(StoreError::Config(
                "database.max_connections must be at least 1".to_owned(),
            ));
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(config.max_connections)
            .min_connections(1)
            .acquire_timeout(config.acquire_timeout)
            .connect_timeout(config.acquire_timeout)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            })
            // Plan each execution for its parameters. A cached generic plan, made while a
            // table was still small, kept scanning it as it grew: importing 300k posts ran at
            // 6k rows/s with the default and 17k rows/s with this.
            .map_sqlx_postgres_opts(|postgres| {
                postgres.options([("plan_cache_mode", "force_custom_plan")])
            });
        let db = Database::connect(options).await?;
        // An in-memory database lives in its connection: a second pool would see another one.
        let bulk_writer = if url.starts_with("sqlite:") && !url.contains("memory") {
            Some(bulk_writer(url, config)?)
        } else {
            None
        };
        Ok(Self { db, bulk_writer })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Names of migrations not applied yet.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let pending = Migrator::get_pending_migrations(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(StoreError::Unavailable)
    }

    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Postgres => "postgres",
            DbBackend::Sqlite => "sqlite",
            _ => "other",
        }
    }

    pub fn creators(&self) -> CreatorRepo<'_> {
        CreatorRepo::new(&self.db, self.bulk_writer.as_ref())
    }

    pub fn brands(&self) -> BrandRepo<'_> {
        BrandRepo { db: &self.db }
    }

    pub fn rosters(&self) -> RosterRepo<'_> {
        RosterRepo { db: &self.db }
    }

    pub fn campaigns(&self) -> CampaignRepo<'_> {
        CampaignRepo { db: &self.db }
    }

    pub fn scores(&self) -> ScoreRepo<'_> {
        ScoreRepo { db: &self.db }
    }

    pub fn ingest(&self) -> IngestRepo<'_> {
        IngestRepo::new(&self.db)
    }

    /// Closes both pools; on SQLite the last connection to close checkpoints the write-ahead
    /// log into the database file.
    pub async fn close(self) -> Result<(), StoreError> {
        if let Some(bulk_writer) = &self.bulk_writer {
            bulk_writer.close().await;
        }
        self.db.close().await?;
        Ok(())
    }
}

/// How the connection pool is used, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open now, idle or in use.
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// The pool's connections now.
    pub fn pool_usage(&self) -> PoolUsage {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolUsage {
                    open: pool.size(),
                    idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    max: pool.options().get_max_connections(),
                }
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolUsage {
                    open: pool.size(),
                    idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    max: pool.options().get_max_connections(),
                }
            }
        }
    }
}
