//! A fresh database per test: a temporary SQLite file, or, when RESONANCE_TEST_DATABASE_URL
//! names a PostgreSQL server (for example `postgres://postgres@127.0.0.1:5432/postgres`), a new
//! database on it that is dropped again when the test is done.

use std::path::PathBuf;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret as _;

use crate::{DatabaseConfig, Store, StoreError};

/// The environment variable that selects PostgreSQL for the tests.
pub const TEST_DATABASE_URL: &str = "RESONANCE_TEST_DATABASE_URL";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run covers: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(TEST_DATABASE_URL).is_ok_and(|url| !url.is_empty()) {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A database that exists for one test. Call [`TestDatabase::drop_database`] at the end (a
/// PostgreSQL database left behind by a failed test is named `resonance_test_*`).
#[derive(Debug)]
pub struct TestDatabase {
    pub config: DatabaseConfig,
    backend: Backend,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| StoreError::Config(e.to_string()))?;
                let path: PathBuf = dir.path().join("resonance.db");
                let config = DatabaseConfig::with_url(&format!("sqlite://{}", path.display()));
                Ok(Self {
                    config,
                    backend,
                    admin_url: None,
                    name: path.display().to_string(),
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = std::env::var(TEST_DATABASE_URL)
                    .map_err(|_| StoreError::Config(format!("{TEST_DATABASE_URL} is not set")))?;
                let name = format!("resonance_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                admin.close().await?;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                let config = DatabaseConfig::with_url(&format!("{base}/{name}"));
                Ok(Self {
                    config,
                    backend,
                    admin_url: Some(admin_url),
                    name,
                    _dir: None,
                })
            }
        }
    }

    /// Creates the database, connects and migrates.
    pub async fn store(backend: Backend) -> Result<(Self, Store), StoreError> {
        let database = Self::create(backend).await?;
        let store = Store::connect(&database.config).await?;
        store.migrate().await?;
        Ok((database, store))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Blocks every write to `table` (reads go on) until [`WriteLock::release`], from a
    /// connection of its own: on SQLite the database's write lock (`BEGIN IMMEDIATE`), on
    /// PostgreSQL `LOCK TABLE ... IN SHARE MODE`. For tests of calls stuck behind a lock.
    pub async fn hold_write_lock(&self, table: &str) -> Result<WriteLock, StoreError> {
        let mut options = ConnectOptions::new(self.config.url.expose_secret().to_owned());
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let connection = Database::connect(options).await?;
        match self.backend {
            Backend::Sqlite => connection.execute_unprepared("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                connection.execute_unprepared("BEGIN").await?;
                connection
                    .execute_unprepared(&format!("LOCK TABLE {table} IN SHARE MODE"))
                    .await?
            }
        };
        Ok(WriteLock { connection })
    }

    /// Drops a PostgreSQL test database (a SQLite file goes with its temporary directory).
    pub async fn drop_database(self) -> Result<(), StoreError> {
        if let Some(admin_url) = &self.admin_url {
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// A write lock held by [`TestDatabase::hold_write_lock`].
#[derive(Debug)]
pub struct WriteLock {
    connection: DatabaseConnection,
}

impl WriteLock {
    /// Ends the lock's transaction (writing nothing) and closes its connection.
    pub async fn release(self) -> Result<(), StoreError> {
        self.connection.execute_unprepared("ROLLBACK").await?;
        self.connection.close().await?;
        Ok(())
    }
}

/// Posts whose creator is not stored. Always 0: on PostgreSQL no foreign key says so (see the
/// migration that dropped it), so tests check what the writer guarantees.
pub async fn orphaned_posts(store: &Store) -> Result<i64, StoreError> {
    let statement = sea_orm::Statement::from_string(
        store.db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM posts p LEFT JOIN creators c ON c.id = p.creator_id \
         WHERE c.id IS NULL",
    );
    let row = store
        .db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| StoreError::Corrupt("COUNT(*) returned no row".to_owned()))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Makes the database refuse any post with this external id, as a constraint the importer's
/// validation did not foresee would: a trigger raising a constraint error (SQLite) or a check
/// violation (PostgreSQL).
pub async fn refuse_posts_with_external_id(
    store: &Store,
    external_id: &str,
) -> Result<(), StoreError> {
    let quoted = external_id.replace('\'', "''");
    let statements = match store.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_post() RETURNS trigger AS $$ BEGIN \
                 IF NEW.external_id = '{quoted}' THEN \
                 RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; \
                 END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER refuse_post BEFORE INSERT OR UPDATE ON posts \
             FOR EACH ROW EXECUTE FUNCTION refuse_post()"
                .to_owned(),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_post BEFORE INSERT ON posts \
             WHEN NEW.external_id = '{quoted}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )],
    };
    for statement in statements {
        store.db.execute_unprepared(&statement).await?;
    }
    Ok(())
}
