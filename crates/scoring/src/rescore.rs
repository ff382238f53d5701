//! Rescoring: keeps stored scores current as ingestion changes creators' data.
//!
//! Ingestion marks every creator whose data changed in `score_queue`, in the transaction that
//! changed it. The rescorer claims the oldest marks in batches, scores those creators from what
//! is stored, saves the scores and clears the marks it read (a mark bumped meanwhile stays).
//! Several rescorers (one per scoring replica) may run at once: scoring is idempotent, and the
//! newest save wins.
//!
//! Percentiles rank against the peer index, rebuilt from stored scores every `peer_refresh` and
//! whenever the queue drains. When the scored population has doubled since the last full pass
//! (a bulk import), every creator is queued again so that early scores, ranked against a thin
//! population, are ranked against the full one; the doubling bounds the extra work to about
//! one more pass over the population in total.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use resonance_store::{Store, StoreError};
use serde::Deserialize;

use crate::engine::Engine;

/// Rescorer settings (`[scoring.rescore]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RescoreConfig {
    pub enabled: bool,
    /// Creators scored per transaction.
    pub batch_size: u64,
    /// How long to wait when nothing is due, and after an error.
    #[serde(with = "humantime_serde")]
    pub idle_interval: Duration,
    /// How often the peer index is rebuilt while work goes on.
    #[serde(with = "humantime_serde")]
    pub peer_refresh: Duration,
    /// Latest posts read per creator (the engagement window takes its own from these).
    pub posts_per_creator: u64,
    /// Sampled followers read per creator for the fake-follower estimate.
    pub followers_per_creator: u64,
}

impl Default for RescoreConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 200,
            idle_interval: Duration::from_secs(1),
            peer_refresh: Duration::from_secs(60),
            posts_per_creator: u64::from(resonance_core::EngagementDefinition::MAX_POST_WINDOW),
            followers_per_creator: 2_000,
        }
    }
}

impl RescoreConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 || self.batch_size > 5_000 {
            return Err("scoring.rescore.batch_size must be between 1 and 5000".to_owned());
        }
        if self.posts_per_creator == 0 {
            return Err("scoring.rescore.posts_per_creator must be at least 1".to_owned());
        }
        if self.idle_interval.is_zero() || self.peer_refresh.is_zero() {
            return Err(
                "scoring.rescore.idle_interval and peer_refresh must be positive".to_owned(),
            );
        }
        Ok(())
    }
}

/// What one round of rescoring did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Round {
    /// Queue entries cleared.
    pub claimed: usize,
    /// Scores saved (creators without a scorable profile get none).
    pub scored: usize,
}

/// The background rescorer.
#[derive(Debug, Clone)]
pub struct Rescorer {
    store: Store,
    engine: Arc<Engine>,
    config: RescoreConfig,
}

impl Rescorer {
    pub fn new(store: Store, engine: Arc<Engine>, config: RescoreConfig) -> Self {
        Self {
            store,
            engine,
            config,
        }
    }

    /// Scores one stored creator now, with the configured read limits (the rescorer's own
    /// path, for a lookup that finds no stored score yet); `None` while it cannot be scored.
    pub async fn score_now(
        &self,
        creator_id: i64,
    ) -> Result<Option<resonance_core::CreatorScore>, StoreError> {
        let inputs = self
            .store
            .scores()
            .load_inputs(
                &[creator_id],
                self.config.posts_per_creator,
                self.config.followers_per_creator,
            )
            .await?;
        Ok(inputs
            .into_iter()
            .next()
            .and_then(|input| self.engine.score_stored(input, Utc::now())))
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Scores one batch of due creators.
    pub async fn round(&self) -> Result<Round, StoreError> {
        let scores = self.store.scores();
        let entries = scores.claim(self.config.batch_size).await?;
        if entries.is_empty() {
            return Ok(Round::default());
        }
        let ids: Vec<i64> = entries.iter().map(|e| e.creator_id).collect();
        // Taken before the data is read: of two rescorers that scored one creator, the one that
        // read later wins when both save.
        let now = Utc::now();
        let inputs = scores
            .load_inputs(
                &ids,
                self.config.posts_per_creator,
                self.config.followers_per_creator,
            )
            .await?;
        let engine = Arc::clone(&self.engine);
        // Scoring is CPU work: keep it off the request threads.
        let records = tokio::task::spawn_blocking(move || {
            inputs
                .into_iter()
                .filter_map(|input| {
                    let id = input.creator_id;
                    let (country, language) = input
                        .profile
                        .as_ref()
                        .map(|p| (p.country.clone(), p.language.clone()))
                        .unwrap_or_default();
                    let score = engine.score_stored(input, now)?;
                    Some(engine.record(id, country, language, &score))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("scoring task failed: {e}")))?;
        let scored: std::collections::HashSet<i64> = records.iter().map(|r| r.creator_id).collect();
        let unscorable: Vec<i64> = ids.into_iter().filter(|id| !scored.contains(id)).collect();
        scores.save(&records, &unscorable).await?;
        scores.finish(&entries).await?;
        Ok(Round {
            claimed: entries.len(),
            scored: records.len(),
        })
    }

    /// Scores until nothing is due; returns the total. For commands and tests.
    pub async fn drain(&self) -> Result<Round, StoreError> {
        self.engine.refresh_peers(&self.store).await?;
        let mut total = Round::default();
        loop {
            let round = self.round().await?;
            if round.claimed == 0 {
                self.engine.refresh_peers(&self.store).await?;
                return Ok(total);
            }
            total.claimed += round.claimed;
            total.scored += round.scored;
        }
    }

    /// Runs until `shutdown` resolves. Errors (a database outage) are logged and retried.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // The population at the last full pass; unknown until the index is first built.
        let mut baseline = match self.engine.refresh_peers(&self.store).await {
            Ok(size) => Some(size),
            Err(error) => {
                tracing::warn!(%error, "could not build the peer index; retrying");
                None
            }
        };
        let mut last_refresh = tokio::time::Instant::now();
        let mut busy = false;
        loop {
            let outcome = tokio::select! {
                () = &mut shutdown => return,
                outcome = self.round() => outcome,
            };
            let idle = match outcome {
                Ok(round) if round.claimed > 0 => {
                    tracing::debug!(claimed = round.claimed, scored = round.scored, "rescored");
                    busy = true;
                    false
                }
                Ok(_) => true,
                Err(error) => {
                    tracing::warn!(%error, "rescoring failed; retrying");
                    true
                }
            };
            let drained = idle && busy;
            if drained || last_refresh.elapsed() >= self.config.peer_refresh {
                busy = !idle;
                last_refresh = tokio::time::Instant::now();
                let min_peers = self.engine.model().peer_config().min_peers;
                match (self.engine.refresh_peers(&self.store).await, baseline) {
                    (Ok(size), None) => baseline = Some(size),
                    (Ok(size), Some(previous)) if size >= 2 * previous.max(min_peers) => {
                        tracing::info!(
                            population = size,
                            previous,
                            "the scored population doubled; ranking everyone again"
                        );
                        baseline = Some(size);
                        if let Err(error) = self.store.scores().enqueue_all(Utc::now()).await {
                            tracing::warn!(%error, "could not queue a full rescoring");
                        }
                    }
                    (Ok(_), Some(_)) => {}
                    (Err(error), _) => tracing::warn!(%error, "could not rebuild the peer index"),
                }
            }
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.config.idle_interval) => {}
                }
            }
        }
    }
}
