//! One gRPC server: the services it is given plus health and reflection, with the configured
//! deadline, message-size and concurrency limits, TLS (mutual TLS) when configured, and a
//! graceful, bounded shutdown.

use std::net::SocketAddr;

use anyhow::Context as _;
use resonance_proto::tonic::service::Routes;
use resonance_proto::tonic::transport::Server;
use resonance_proto::tonic::transport::server::TcpIncoming;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic_health::ServingStatus;

use crate::auth::AuthLayer;
use crate::config::{ServerSettings, ServerTls};
use crate::deadline::DeadlineLayer;
use crate::limit::ConcurrencyLimitLayer;
use crate::metrics::{Metrics, MetricsLayer};

/// A shutdown signal shared by every part of the process.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Triggers a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (ShutdownTrigger(sender), Shutdown(receiver))
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves once shutdown is triggered (or its trigger is dropped).
    pub async fn wait(mut self) {
        // An error means the trigger was dropped, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Whether the database answers, as last checked by [`watch_database`].
pub type DatabaseState = watch::Receiver<bool>;

/// Pings the database every `interval` (each ping bounded by it too) until `shutdown`, and
/// publishes whether it answers. Changes are logged: a lost database once, not every ping.
pub async fn watch_database(
    store: resonance_store::Store,
    interval: std::time::Duration,
    state: watch::Sender<bool>,
    shutdown: Shutdown,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let failure = match tokio::time::timeout(interval, store.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error.to_string()),
            Err(_) => Some(format!("no answer within {interval:?}")),
        };
        let answered = failure.is_none();
        if state.send_if_modified(|up| std::mem::replace(up, answered) != answered) {
            match failure {
                Some(error) => {
                    tracing::warn!(%error, "the database does not answer: services are NOT_SERVING");
                }
                None => tracing::info!("the database answers again: services are SERVING"),
            }
        }
    }
}

/// A server bound to its port, not yet serving.
#[derive(Debug)]
pub struct BoundServer {
    pub name: &'static str,
    listener: TcpListener,
    addr: SocketAddr,
    routes: Routes,
    service_names: Vec<&'static str>,
    auth: AuthLayer,
    metrics: Metrics,
    tls: Option<ServerTls>,
}

impl BoundServer {
    /// Binds `listen` (port 0 picks a free port) for `routes`, whose gRPC service names are
    /// `service_names` (reported by the health service); every call but health and reflection
    /// must pass `auth`. With `tls`, every connection (health and reflection included) is TLS.
    pub async fn bind(
        name: &'static str,
        listen: SocketAddr,
        routes: Routes,
        service_names: Vec<&'static str>,
        auth: AuthLayer,
        metrics: Metrics,
        tls: Option<ServerTls>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("{name}: cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        Ok(Self {
            name,
            listener,
            addr,
            routes,
            service_names,
            auth,
            metrics,
            tls,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown`, then: health turns NOT_SERVING, after `drain_delay` the listener
    /// closes, in-flight calls get `shutdown_grace` to finish, and the server returns.
    ///
    /// While serving, each of its services' health follows `database`: NOT_SERVING while the
    /// database does not answer. The overall status ("") stays SERVING until shutdown.
    pub async fn run_until_stopped(
        self,
        settings: ServerSettings,
        mut database: DatabaseState,
        shutdown: Shutdown,
    ) -> anyhow::Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let status_of = |up: bool| {
            if up {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            }
        };
        // Registered before the server accepts a connection: a check or watch of a service
        // during startup gets its status, never NOT_FOUND (a spawned task may run later).
        let initial = status_of(*database.borrow_and_update());
        for service in &self.service_names {
            health.set_service_status(*service, initial).await;
        }
        let follow_database = tokio::spawn({
            let health = health.clone();
            let services = self.service_names.clone();
            async move {
                while database.changed().await.is_ok() {
                    let status = status_of(*database.borrow_and_update());
                    for service in &services {
                        health.set_service_status(*service, status).await;
                    }
                }
            }
        });
        // Reflection advertises what this server serves, not every service of the contracts.
        let reflection = || {
            // Both reflection versions are advertised by both, so both schemas are registered
            // (each builder would otherwise register only its own).
            let mut builder = tonic_reflection::server::Builder::configure()
                .include_reflection_service(false)
                .register_encoded_file_descriptor_set(resonance_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(
                    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
                );
            for service in self.service_names.iter().copied().chain([
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
            ]) {
                builder = builder.with_service_name(service);
            }
            builder
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;

        let name = self.name;
        let tls_mode = self.tls.as_ref().map_or("off", ServerTls::mode);
        let plaintext = self.tls.is_none();
        // Deadlines are DeadlineLayer's (tonic's own timeout would answer CANCELLED).
        let mut server = Server::builder().max_concurrent_streams(settings.max_concurrent_streams);
        if let Some(tls) = self.tls {
            // Checked when the configuration was loaded; this builds the same again.
            server = server
                .tls_config(tls.config)
                .with_context(|| format!("{name}: cannot apply server.tls"))?;
        }
        let router = server
            // Over the limit a call is refused before its key is checked: no database work.
            .layer(
                tower::ServiceBuilder::new()
                    // Outermost, so that refused and unauthenticated calls are counted too.
                    .layer(MetricsLayer::new(name, self.metrics))
                    .layer(DeadlineLayer::new(settings.request_timeout))
                    .layer(ConcurrencyLimitLayer::new(settings.max_concurrent_calls))
                    .layer(self.auth)
                    .into_inner(),
            )
            .add_routes(self.routes)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let (stop_accepting, stop_signal) = tokio::sync::oneshot::channel::<()>();
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let mut serving = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
            let _ = stop_signal.await;
        }));
        tracing::info!(server = name, addr = %self.addr, tls = tls_mode, "serving");
        if plaintext && !self.addr.ip().is_loopback() {
            tracing::warn!(
                server = name,
                addr = %self.addr,
                "serving plaintext beyond loopback: API keys cross the network in the clear; \
                 set [server.tls] unless a proxy in front terminates TLS"
            );
        }

        tokio::select! {
            ended = &mut serving => {
                // The server stopped without being asked to.
                ended??;
                anyhow::bail!("{name} server stopped unexpectedly");
            }
            () = shutdown.wait() => {}
        }

        tracing::info!(server = name, "shutting down: health is NOT_SERVING");
        follow_database.abort();
        let _ = follow_database.await;
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for service in &self.service_names {
            health
                .set_service_status(*service, ServingStatus::NotServing)
                .await;
        }
        tokio::time::sleep(settings.drain_delay).await;
        let _ = stop_accepting.send(());
        match tokio::time::timeout(settings.shutdown_grace, &mut serving).await {
            Ok(ended) => {
                ended??;
                tracing::info!(server = name, "stopped");
            }
            Err(_) => {
                serving.abort();
                tracing::warn!(server = name, grace = ?settings.shutdown_grace, "calls still running after the grace period were cut");
            }
        }
        Ok(())
    }
}
