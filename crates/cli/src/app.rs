//! Building and running the services: `build` connects, migrates and binds (port 0 allowed)
//! and exposes the bound addresses; `run_until_stopped` serves until the shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use resonance_core::ScoringModel;
use resonance_ingest::{IngestApi, Worker};
use resonance_proto::campaign::campaign_service_server::SERVICE_NAME as CAMPAIGN_SERVICE;
use resonance_proto::ingest::ingest_service_server::SERVICE_NAME as INGEST_SERVICE;
use resonance_proto::roster::roster_service_server::SERVICE_NAME as ROSTER_SERVICE;
use resonance_proto::scoring::scoring_service_server::SERVICE_NAME as SCORING_SERVICE;
use resonance_proto::tonic::service::Routes;
use resonance_roster::{CampaignApi, RosterApi};
use resonance_scoring::{Engine, Rescorer, ScoringApi};

use crate::auth::AuthLayer;
use crate::metrics::{Metrics, MetricsServer};
use resonance_store::Store;
use tokio::task::JoinSet;

use crate::config::{Settings, TlsSettings};
use crate::server::{BoundServer, Shutdown};

/// Which parts this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every service in one process (the embedded default).
    All,
    Scoring,
    Roster,
    Ingest,
}

impl Role {
    fn runs(self, part: Role) -> bool {
        self == Role::All || self == part
    }
}

/// Connects to the database named by the settings, migrating if configured to.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database)
        .await
        .context("cannot open the database")?;
    if settings.database.migrate_on_start {
        store.migrate().await.context("cannot apply migrations")?;
    } else {
        let pending = store.pending_migrations().await?;
        anyhow::ensure!(
            pending.is_empty(),
            "the database needs migrations ({}); run `resonance migrate`",
            pending.join(", ")
        );
    }
    Ok(store)
}

/// Says at start whether the servers speak TLS, and whether they require client certificates
/// (the files' paths, never their contents).
fn log_tls(tls: Option<&TlsSettings>) {
    match tls {
        None => tracing::info!("TLS off: the servers speak plaintext ([server.tls] turns it on)"),
        Some(TlsSettings {
            cert,
            client_ca: None,
            ..
        }) => tracing::info!(
            cert = %cert.display(),
            "TLS on; client certificates not required (server.tls.client_ca requires them)"
        ),
        Some(TlsSettings {
            cert,
            client_ca: Some(client_ca),
            ..
        }) => tracing::info!(
            cert = %cert.display(),
            client_ca = %client_ca.display(),
            "mutual TLS on: clients must present a certificate signed by server.tls.client_ca"
        ),
    }
}

/// The bound, ready-to-serve parts of one process.
#[derive(Debug)]
pub struct Application {
    settings: Settings,
    servers: Vec<BoundServer>,
    worker: Option<Worker>,
    rescorer: Option<Rescorer>,
    metrics: Option<(MetricsServer, Metrics)>,
    store: Store,
}

/// The scoring model the configuration describes.
fn model(settings: &Settings) -> anyhow::Result<Arc<ScoringModel>> {
    Ok(Arc::new(
        ScoringModel::new(&settings.scoring.model).context("scoring.model")?,
    ))
}

/// The scoring engine the configuration describes.
pub fn engine(settings: &Settings) -> anyhow::Result<Arc<Engine>> {
    engine_over(model(settings)?, settings)
}

fn engine_over(model: Arc<ScoringModel>, settings: &Settings) -> anyhow::Result<Arc<Engine>> {
    let classifier = crate::authenticity::classifier(&settings.scoring.authenticity_model)?;
    Ok(Arc::new(Engine::new(model, classifier)))
}

impl Application {
    pub async fn build(settings: Settings, role: Role) -> anyhow::Result<Self> {
        // The TLS files are read and checked first: a bad one stops the process before any
        // other work, naming its key.
        let tls = settings
            .server
            .tls
            .as_ref()
            .map(TlsSettings::load)
            .transpose()?;
        log_tls(settings.server.tls.as_ref());
        let store = open_store(&settings).await?;
        let limit = settings.server.max_message_bytes;
        let mut servers = Vec::new();
        let mut rescorer = None;
        // One model for every service of the process (scoring, and the campaign reports).
        let model = model(&settings)?;
        let auth = AuthLayer::new(store.clone(), settings.auth.cache_ttl);
        let metrics = Metrics::new();
        if role.runs(Role::Scoring) {
            let scorer = Rescorer::new(
                store.clone(),
                engine_over(model.clone(), &settings)?,
                settings.scoring.rescore.clone(),
            );
            if settings.scoring.rescore.enabled {
                // The background rescorer builds the peer index as it starts and keeps it current.
                rescorer = Some(scorer.clone());
            } else if let Err(error) = scorer.engine().refresh_peers(&store).await {
                tracing::warn!(%error, "could not build the peer index; ranking by priors for now");
            }
            let routes = Routes::new(ScoringApi::new(scorer).into_server(limit));
            servers.push(
                BoundServer::bind(
                    "scoring",
                    settings.scoring.listen,
                    routes,
                    vec![SCORING_SERVICE],
                    auth.clone(),
                    metrics.clone(),
                    tls.clone(),
                )
                .await?,
            );
        }
        if role.runs(Role::Roster) {
            let campaigns =
                CampaignApi::new(store.clone(), model.clone(), settings.roster.report.clone())
                    .with_planner(
                        settings.roster.planner.clone(),
                        settings.server.request_timeout,
                    );
            let routes = Routes::new(RosterApi::new(store.clone()).into_server(limit))
                .add_service(campaigns.into_server(limit));
            servers.push(
                BoundServer::bind(
                    "roster",
                    settings.roster.listen,
                    routes,
                    vec![ROSTER_SERVICE, CAMPAIGN_SERVICE],
                    auth.clone(),
                    metrics.clone(),
                    tls.clone(),
                )
                .await?,
            );
        }
        if role.runs(Role::Ingest) {
            let routes = Routes::new(IngestApi::new(store.clone()).into_server(limit));
            servers.push(
                BoundServer::bind(
                    "ingest",
                    settings.ingest.listen,
                    routes,
                    vec![INGEST_SERVICE],
                    auth.clone(),
                    metrics.clone(),
                    tls.clone(),
                )
                .await?,
            );
        }
        let worker = (role.runs(Role::Ingest) && settings.ingest.worker.enabled)
            .then(|| Worker::new(store.clone(), settings.ingest.worker.clone()));
        let metrics_server = if settings.telemetry.metrics {
            Some(MetricsServer::bind(settings.telemetry.metrics_listen).await?)
        } else {
            None
        };
        Ok(Self {
            settings,
            servers,
            worker,
            rescorer,
            metrics: metrics_server.map(|server| (server, metrics)),
            store,
        })
    }

    /// The bound address of a server ("scoring", "roster", "ingest", or "metrics"), if this
    /// process runs it.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        if name == "metrics" {
            return self.metrics.as_ref().map(|(server, _)| server.addr());
        }
        self.servers
            .iter()
            .find(|s| s.name == name)
            .map(BoundServer::addr)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown`. If one server fails, the others are stopped too and the error
    /// is returned.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let (stop_all, stopped) = crate::server::shutdown_channel();
        let mut tasks = JoinSet::new();
        let (database_state, database) = tokio::sync::watch::channel(true);
        tokio::spawn(crate::server::watch_database(
            self.store.clone(),
            self.settings.server.health_check_interval,
            database_state,
            stopped.clone(),
        ));
        for server in self.servers {
            let name = server.name;
            let settings = self.settings.server.clone();
            let stopped = stopped.clone();
            let database = database.clone();
            tasks.spawn(async move {
                (
                    name,
                    server.run_until_stopped(settings, database, stopped).await,
                )
            });
        }
        if let Some(worker) = self.worker {
            let stopped = stopped.clone();
            tasks.spawn(async move {
                worker.run(stopped.wait()).await;
                ("ingest worker", Ok(()))
            });
        }
        if let Some((server, metrics)) = self.metrics {
            let stopped = stopped.clone();
            let store = self.store.clone();
            tasks.spawn(async move {
                (
                    "metrics",
                    server.serve(metrics, store, stopped.wait()).await,
                )
            });
        }
        if let Some(rescorer) = self.rescorer {
            let stopped = stopped.clone();
            tasks.spawn(async move {
                rescorer.run(stopped.wait()).await;
                ("rescorer", Ok(()))
            });
        }
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                shutdown.wait().await;
                stop_all.trigger();
            }
        });
        let mut failure = None;
        while let Some(ended) = tasks.join_next().await {
            match ended {
                Ok((name, Ok(()))) => tracing::info!(server = name, "server ended"),
                Ok((name, Err(error))) => {
                    tracing::error!(server = name, error = %format!("{error:#}"), "server failed");
                    failure.get_or_insert(error.context(format!("{name} server failed")));
                }
                Err(join_error) => {
                    tracing::error!(%join_error, "server task panicked");
                    failure.get_or_insert(anyhow::anyhow!("a server task panicked: {join_error}"));
                }
            }
            if failure.is_some() {
                // Stop the rest; the process is no longer whole.
                tasks.abort_all();
            }
        }
        if let Err(error) = self.store.close().await {
            tracing::warn!(%error, "closing the database pool failed");
        }
        failure.map_or(Ok(()), Err)
    }
}
