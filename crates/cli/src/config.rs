//! Typed, layered configuration: built-in defaults, then an optional TOML file, then
//! `RESONANCE__SECTION__KEY` environment variables. Unknown keys and invalid values are refused
//! at start with a message naming the key.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use resonance_core::ScoringConfig;
use resonance_ingest::WorkerConfig;
use resonance_store::DatabaseConfig;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub server: ServerSettings,
    pub scoring: ScoringSettings,
    pub roster: ListenSettings,
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
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSettings {
    pub listen: SocketAddr,
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

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            server: ServerSettings::default(),
            scoring: ScoringSettings::default(),
            roster: ListenSettings {
                listen: SocketAddr::from(([127, 0, 0, 1], 50052)),
            },
            ingest: IngestSettings::default(),
            auth: AuthSettings::default(),
            telemetry: TelemetrySettings::default(),
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
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info".to_owned(),
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
}
