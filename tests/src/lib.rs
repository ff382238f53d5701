//! The end-to-end test harness: the real application, in-process, on port 0, with a fresh
//! database (SQLite, or PostgreSQL when RESONANCE_TEST_DATABASE_URL is set).

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the test targets"
    )
)]

use std::net::SocketAddr;
use std::time::Duration;

use resonance_cli::app::{Application, Role};
use resonance_cli::config::Settings;
use resonance_cli::server::{ShutdownTrigger, shutdown_channel};
use resonance_proto::tonic::service::interceptor::InterceptedService;
use resonance_proto::tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use resonance_store::testing::{Backend, TestDatabase};
use resonance_store::{BrandId, Store};
use tokio::task::JoinHandle;

pub use resonance_store::testing::backends;

pub mod proxy;

/// Points the application's database connections at `proxy` (a [`proxy::TcpProxy`] to the
/// database's own address) instead.
pub fn database_through(settings: &mut Settings, proxy: SocketAddr) -> anyhow::Result<()> {
    use secrecy::ExposeSecret as _;
    let url = settings.database.url.expose_secret().to_owned();
    settings.database.url = proxy::url_via(&url, proxy)?.into();
    Ok(())
}

pub use resonance_proto::api_key::WithKey;

/// A channel whose calls carry a brand's API key.
pub type KeyedChannel = InterceptedService<Channel, WithKey>;

/// A running application for one test.
#[derive(Debug)]
pub struct TestApp {
    pub scoring: SocketAddr,
    pub roster: SocketAddr,
    pub ingest: SocketAddr,
    /// The Prometheus endpoint (`/metrics`).
    pub metrics: SocketAddr,
    pub store: Store,
    /// A brand created for the test, and its API key, which [`TestApp::channel`] sends.
    pub brand: BrandId,
    pub api_key: String,
    trigger: ShutdownTrigger,
    running: JoinHandle<anyhow::Result<()>>,
    database: TestDatabase,
}

impl TestApp {
    /// Starts every service with default settings but ephemeral ports.
    pub async fn spawn(backend: Backend) -> anyhow::Result<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Self> {
        let database = TestDatabase::create(backend).await?;
        let mut settings = Settings {
            database: database.config.clone(),
            ..Settings::default()
        };
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        settings.scoring.listen = any_port;
        settings.roster.listen = any_port;
        settings.ingest.listen = any_port;
        settings.telemetry.metrics_listen = any_port;
        // Tests that want the NATS worker turn it on with a stream of their own.
        settings.ingest.worker.enabled = false;
        adjust(&mut settings);
        let app = Application::build(settings, Role::All).await?;
        let address = |name: &str| {
            app.addr(name)
                .ok_or_else(|| anyhow::anyhow!("{name} is not running"))
        };
        let (scoring, roster, ingest) =
            (address("scoring")?, address("roster")?, address("ingest")?);
        let metrics = address("metrics")?;
        let store = app.store().clone();
        let (brand, key) = store
            .brands()
            .create("test brand", chrono::Utc::now())
            .await?;
        let (trigger, shutdown) = shutdown_channel();
        let running = tokio::spawn(app.run_until_stopped(shutdown));
        Ok(Self {
            scoring,
            roster,
            ingest,
            metrics,
            store,
            brand: brand.id,
            api_key: key.secret,
            trigger,
            running,
            database,
        })
    }

    /// A channel to one of the servers whose calls carry the test brand's key (the servers
    /// are listening already: no waiting needed).
    pub async fn channel(&self, addr: SocketAddr) -> anyhow::Result<KeyedChannel> {
        self.channel_with_key(addr, &self.api_key).await
    }

    /// A channel whose calls carry `key` (another brand's, for example).
    pub async fn channel_with_key(
        &self,
        addr: SocketAddr,
        key: &str,
    ) -> anyhow::Result<KeyedChannel> {
        Ok(InterceptedService::new(
            self.bare_channel(addr).await?,
            WithKey::new(key)?,
        ))
    }

    /// A channel without credentials.
    pub async fn bare_channel(&self, addr: SocketAddr) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await?)
    }

    /// A channel without credentials over TLS, to servers started with `server.tls`: `tls` says
    /// which CA the client trusts, the name it expects, and the certificate it presents, if any.
    /// Under mutual TLS a refused client certificate may only surface on the first call.
    pub async fn tls_channel(
        &self,
        addr: SocketAddr,
        tls: ClientTlsConfig,
    ) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(format!("https://{addr}"))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .connect()
            .await?)
    }

    /// The test's database, for what a test does to it behind the application's back.
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Starts the graceful shutdown without waiting for it.
    pub fn begin_shutdown(&self) {
        self.trigger.trigger();
    }

    /// Shuts down, waits for the servers to stop, and drops the test database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.trigger.trigger();
        self.running.await??;
        self.store.close().await?;
        self.database.drop_database().await?;
        Ok(())
    }
}

/// An ingestion record of an Instagram profile with `followers`, observed when it arrives.
pub fn profile_record(handle: &str, followers: i64) -> resonance_proto::ingest::Record {
    use resonance_proto::ingest::{ProfileRecord, record::Kind};
    resonance_proto::ingest::Record {
        kind: Some(Kind::Profile(ProfileRecord {
            profile: Some(resonance_proto::scoring::Profile {
                platform: resonance_proto::common::Platform::Instagram as i32,
                handle: handle.to_owned(),
                followers,
                following: 300,
                media_count: 200,
                has_profile_picture: true,
                ..Default::default()
            }),
        })),
    }
}
