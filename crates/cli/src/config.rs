//! Typed, layered configuration: built-in defaults, then an optional TOML file, then
//! `RESONANCE__SECTION__KEY` environment variables. Unknown keys and invalid values are refused
//! at start with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use resonance_core::ScoringConfig;
use resonance_ingest::WorkerConfig;
use resonance_proto::tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use resonance_store::DatabaseConfig;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub server: ServerSettings,
    pub scoring: ScoringSettings,
    pub roster: RosterSettings,
    pub ingest: IngestSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
}

/// API-key authentication of every call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// How long a verified key is remembered: a revoked key stops working within this time.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(30),
        }
    }
}

/// Limits and timeouts every server applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Longest a call may run; a shorter client deadline (grpc-timeout) wins.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Calls served at once per server; calls beyond it are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: usize,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// After SIGTERM: how long health reports NOT_SERVING before the listener closes, so load
    /// balancers stop routing here first.
    #[serde(with = "humantime_serde")]
    pub drain_delay: Duration,
    /// After the listener closes: how long in-flight calls get to finish.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// How often the database is pinged; while it does not answer, each service's health is
    /// NOT_SERVING (the server's overall status, "", stays SERVING: the process is alive).
    #[serde(with = "humantime_serde")]
    pub health_check_interval: Duration,
    /// TLS on every server; absent, the servers speak plaintext.
    pub tls: Option<TlsSettings>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_calls: 256,
            max_concurrent_streams: 128,
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(10),
            health_check_interval: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// TLS on every server. Health and reflection share each server's port, so they are TLS too.
/// Without this section the servers speak plaintext: for a loopback address, or behind a proxy
/// that terminates TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain the servers present: their certificate first, then any
    /// intermediates.
    pub cert: PathBuf,
    /// PEM private key of `cert`: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), not encrypted.
    pub key: PathBuf,
    /// PEM certificate(s) of the CA(s) that sign client certificates. When set, every client
    /// must present a certificate signed by one of them (mutual TLS) before it can make any
    /// call; calls still need an API key.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// How long a client gets to complete the TLS handshake before its connection is dropped.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS of [`TlsSettings`], its files read and checked.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// For `Server::tls_config` (its `Debug` shows nothing of the key).
    pub config: ServerTlsConfig,
    /// Whether clients must present a certificate (mutual TLS).
    pub mutual: bool,
}

impl ServerTls {
    /// "on" or "mutual", for the logs.
    pub fn mode(&self) -> &'static str {
        if self.mutual { "mutual" } else { "on" }
    }
}

/// The PEM label of a certificate.
const CERTIFICATE: &str = "CERTIFICATE";
/// The PEM labels of the private keys rustls reads: PKCS#8, PKCS#1 and SEC1.
const PRIVATE_KEYS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

impl TlsSettings {
    /// Reads the PEM files and builds the servers' TLS configuration now, so that a missing,
    /// unreadable or malformed file, or a key that does not fit the certificate, stops the
    /// process at start with the key at fault rather than failing every connection.
    pub fn load(&self) -> Result<ServerTls, ConfigError> {
        let cert = read_pem("server.tls.cert", &self.cert, &[CERTIFICATE])?;
        let key = read_pem("server.tls.key", &self.key, &PRIVATE_KEYS)?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, key))
            .timeout(TLS_HANDSHAKE_TIMEOUT);
        let mut files = format!(
            "server.tls.cert ({}) and server.tls.key ({})",
            self.cert.display(),
            self.key.display()
        );
        if let Some(client_ca) = &self.client_ca {
            let ca = read_pem("server.tls.client_ca", client_ca, &[CERTIFICATE])?;
            config = config.client_ca_root(Certificate::from_pem(ca));
            files = format!(
                "{files} with server.tls.client_ca ({})",
                client_ca.display()
            );
        }
        // tonic decodes the PEM and builds the rustls configuration here, as it will for each
        // server: what it refuses now it would refuse then.
        Server::builder()
            .tls_config(config.clone())
            .map_err(|error| {
                ConfigError::Invalid(format!(
                    "server.tls: {files} cannot be used: {}",
                    causes(&error)
                ))
            })?;
        Ok(ServerTls {
            config,
            mutual: self.client_ca.is_some(),
        })
    }
}

/// Reads the PEM file `path`, set by `key`, which must hold a block labelled one of `labels`.
fn read_pem(key: &str, path: &Path, labels: &[&str]) -> Result<Vec<u8>, ConfigError> {
    let invalid = |what: String| ConfigError::Invalid(format!("{key}: {} {what}", path.display()));
    let pem = std::fs::read(path).map_err(|error| invalid(format!("cannot be read: {error}")))?;
    let found = pem_labels(&pem);
    if found.iter().any(|label| labels.contains(&label.as_str())) {
        return Ok(pem);
    }
    let expected = labels.join(" or ");
    Err(invalid(if found.is_empty() {
        format!(
            "is not PEM (no -----BEGIN {expected}----- line); DER converts with \
             `openssl x509 -inform der` or `openssl pkey -inform der`"
        )
    } else if found.iter().any(|label| label == "ENCRYPTED PRIVATE KEY") {
        "holds an encrypted private key; the server needs it unencrypted \
         (`openssl pkey -in KEY -out PLAIN`, kept readable by the service alone)"
            .to_owned()
    } else {
        format!("holds no {expected} (it holds: {})", found.join(", "))
    }))
}

/// The labels of the PEM blocks in `pem` (`CERTIFICATE`, `PRIVATE KEY`, ...), in order.
fn pem_labels(pem: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(pem)
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("-----BEGIN ")?
                .strip_suffix("-----")
                .map(str::to_owned)
        })
        .collect()
}

/// An error and its causes, on one line.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// The roster and campaign services.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RosterSettings {
    pub listen: SocketAddr,
    /// What campaign reports count (the scoring model's definitions apply too).
    pub report: resonance_core::campaign::report::ReportConfig,
    /// The campaign planner's work limits (docs/planner.md).
    pub planner: resonance_core::planner::PlannerConfig,
}

impl Default for RosterSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50052)),
            report: resonance_core::campaign::report::ReportConfig::default(),
            planner: resonance_core::planner::PlannerConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringSettings {
    pub listen: SocketAddr,
    pub model: ScoringConfig,
    /// The fake-follower classifier: "builtin" (trained on InstaFake, CC BY-NC 4.0), "rules"
    /// (the documented fallback), or the path of a model from `resonance authenticity train`.
    pub authenticity_model: String,
    /// Keeps stored scores current as ingestion changes creators.
    pub rescore: resonance_scoring::RescoreConfig,
}

impl Default for ScoringSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            model: ScoringConfig::default(),
            authenticity_model: "builtin".to_owned(),
            rescore: resonance_scoring::RescoreConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    pub listen: SocketAddr,
    /// The NATS JetStream worker, run beside IngestService.
    pub worker: WorkerConfig,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50053)),
            worker: WorkerConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    /// A tracing filter, for example "info" or "info,resonance_ingest=debug"; RUST_LOG wins.
    pub filter: String,
    /// Serve Prometheus metrics at `/metrics` on `metrics_listen` (service processes only).
    pub metrics: bool,
    pub metrics_listen: SocketAddr,
    /// Export traces over OTLP/gRPC to this collector (`http://collector:4317`); off when unset.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` traces carry.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info".to_owned(),
            metrics: true,
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            otlp_endpoint: None,
            service_name: "resonance".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The environment variable prefix; `RESONANCE__DATABASE__URL` sets `database.url`.
pub const ENV_PREFIX: &str = "RESONANCE";

impl Settings {
    /// Loads defaults, then `file` if given, then the environment, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("RESONANCE__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("ingest.worker.subjects")
                .source(Some(env)),
        );
        let raw = builder
            .build()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let settings: Settings = raw
            .try_deserialize()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.validate()
    }

    fn validate(self) -> Result<Self, ConfigError> {
        resonance_core::ScoringModel::new(&self.scoring.model)
            .map_err(|e| ConfigError::Invalid(format!("scoring.model.{e}")))?;
        self.roster
            .report
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("roster.report.{e}")))?;
        self.roster
            .planner
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("roster.planner.{e}")))?;
        let positive = [
            ("server.max_message_bytes", self.server.max_message_bytes),
            (
                "server.max_concurrent_calls",
                self.server.max_concurrent_calls,
            ),
            (
                "database.max_connections",
                self.database.max_connections as usize,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::Invalid(format!("{key} must be at least 1")));
        }
        self.ingest
            .worker
            .validate()
            .map_err(ConfigError::Invalid)?;
        self.scoring
            .rescore
            .validate()
            .map_err(ConfigError::Invalid)?;
        if self.server.health_check_interval.is_zero() {
            return Err(ConfigError::Invalid(
                "server.health_check_interval must be positive".to_owned(),
            ));
        }
        if self.server.request_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "server.request_timeout must be positive".to_owned(),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let settings = Settings::load_from(None, env(&[])).expect("defaults");
        assert_eq!(settings.scoring.listen.port(), 50051);
        assert_eq!(settings.server.max_message_bytes, 4 * 1024 * 1024);
    }

    /// The documented example configuration loads, and says what the defaults are.
    #[test]
    fn the_example_file_loads_and_matches_the_defaults() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/resonance.example.toml");
        let loaded = Settings::load_from(Some(&example), env(&[])).expect("example loads");
        let defaults = Settings::default();
        assert_eq!(format!("{loaded:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("resonance.toml");
        std::fs::write(
            &file,
            "[server]\nrequest_timeout = \"5s\"\nmax_concurrent_calls = 8\n",
        )
        .expect("write");
        let settings = Settings::load_from(
            Some(&file),
            env(&[("RESONANCE__SERVER__MAX_CONCURRENT_CALLS", "16")]),
        )
        .expect("load");
        assert_eq!(settings.server.request_timeout, Duration::from_secs(5));
        assert_eq!(settings.server.max_concurrent_calls, 16);
    }

    #[test]
    fn nested_model_keys_come_from_the_environment() {
        let settings = Settings::load_from(
            None,
            env(&[("RESONANCE__SCORING__MODEL__TIERS__MICRO_MIN", "5000")]),
        )
        .expect("load");
        assert_eq!(settings.scoring.model.tiers.micro_min, 5000);
    }

    #[test]
    fn worker_subjects_are_a_comma_separated_list() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("RESONANCE__INGEST__WORKER__SUBJECTS", "a.>,b.records"),
                ("RESONANCE__INGEST__WORKER__ENABLED", "false"),
            ]),
        )
        .expect("load");
        assert_eq!(settings.ingest.worker.subjects, ["a.>", "b.records"]);
        assert!(!settings.ingest.worker.enabled);
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = Settings::load_from(
            None,
            env(&[("RESONANCE__SERVER__MAX_CONCURENT_CALLS", "3")]),
        )
        .expect_err("typo");
        assert!(error.to_string().contains("max_concurent_calls"), "{error}");
    }

    #[test]
    fn invalid_values_are_named() {
        let error = Settings::load_from(
            None,
            env(&[("RESONANCE__SERVER__MAX_CONCURRENT_CALLS", "many")]),
        )
        .expect_err("nan");
        assert!(
            error.to_string().contains("max_concurrent_calls"),
            "{error}"
        );
        let error = Settings::load_from(
            None,
            env(&[("RESONANCE__SCORING__MODEL__ENGAGEMENT__POST_WINDOW", "0")]),
        )
        .expect_err("zero");
        assert!(
            error
                .to_string()
                .contains("scoring.model.engagement.post_window"),
            "{error}"
        );
        let error = Settings::load_from(
            None,
            env(&[("RESONANCE__INGEST__WORKER__STREAM", "has spaces")]),
        )
        .expect_err("stream name");
        assert!(
            error.to_string().contains("ingest.worker.stream"),
            "{error}"
        );
        let error = Settings::load_from(None, env(&[("RESONANCE__SCORING__LISTEN", "nowhere")]))
            .expect_err("addr");
        assert!(error.to_string().contains("listen"), "{error}");
    }

    #[test]
    fn tls_is_off_unless_configured_and_its_keys_are_checked() {
        let defaults = Settings::load_from(None, env(&[])).expect("defaults");
        assert!(defaults.server.tls.is_none());

        let settings = Settings::load_from(
            None,
            env(&[
                ("RESONANCE__SERVER__TLS__CERT", "/etc/resonance/server.pem"),
                ("RESONANCE__SERVER__TLS__KEY", "/etc/resonance/key.pem"),
            ]),
        )
        .expect("load");
        let tls = settings.server.tls.expect("tls section");
        assert_eq!(tls.cert, Path::new("/etc/resonance/server.pem"));
        assert_eq!(tls.key, Path::new("/etc/resonance/key.pem"));
        assert!(tls.client_ca.is_none());

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("resonance.toml");
        std::fs::write(
            &file,
            "[server.tls]\ncert = \"s.pem\"\nkey = \"k.pem\"\nclient_ca = \"ca.pem\"\n",
        )
        .expect("write");
        let tls = Settings::load_from(Some(&file), env(&[]))
            .expect("load")
            .server
            .tls
            .expect("tls section");
        assert_eq!(tls.client_ca.as_deref(), Some(Path::new("ca.pem")));

        std::fs::write(
            &file,
            "[server.tls]\ncert = \"s.pem\"\nkey = \"k.pem\"\nclient_cert = \"c.pem\"\n",
        )
        .expect("write");
        let error = Settings::load_from(Some(&file), env(&[])).expect_err("typo");
        assert!(error.to_string().contains("client_cert"), "{error}");
        std::fs::write(&file, "[server.tls]\ncert = \"s.pem\"\n").expect("write");
        let error = Settings::load_from(Some(&file), env(&[])).expect_err("no key");
        assert!(error.to_string().contains("server.tls.key"), "{error}");
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/tls")
            .join(name)
    }

    /// The files are read and checked when TLS is loaded, at start; errors name the key.
    #[test]
    fn tls_files_are_checked_at_load_and_errors_name_the_key() {
        let tls = TlsSettings {
            cert: fixture("server.pem"),
            key: fixture("server-key.pem"),
            client_ca: None,
        };
        assert_eq!(tls.load().expect("TLS").mode(), "on");
        let mutual = TlsSettings {
            client_ca: Some(fixture("ca.pem")),
            ..tls.clone()
        };
        assert_eq!(mutual.load().expect("mutual TLS").mode(), "mutual");

        let cases = [
            (
                TlsSettings {
                    cert: fixture("missing.pem"),
                    ..tls.clone()
                },
                "server.tls.cert",
                "cannot be read",
            ),
            (
                TlsSettings {
                    key: fixture("server.pem"),
                    ..tls.clone()
                },
                "server.tls.key",
                "holds no PRIVATE KEY",
            ),
            (
                TlsSettings {
                    cert: fixture("README.md"),
                    ..tls.clone()
                },
                "server.tls.cert",
                "is not PEM",
            ),
            (
                TlsSettings {
                    client_ca: Some(fixture("ca-key.pem")),
                    ..tls.clone()
                },
                "server.tls.client_ca",
                "holds no CERTIFICATE",
            ),
        ];
        for (settings, key, problem) in cases {
            let error = settings.load().expect_err(key).to_string();
            assert!(error.contains(key) && error.contains(problem), "{error}");
        }
    }
}
