//! The `resonance` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::app::{Application, Role, open_store};
use crate::config::Settings;
use crate::server::{ShutdownTrigger, shutdown_channel};
use crate::telemetry;
use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use resonance_ingest::{CsvMapping, FileFormat, RowKind};

/// Resonance: engagement-first influencer scoring, discovery and campaign planning.
#[derive(Debug, Parser)]
#[command(name = "resonance", version, about)]
struct Cli {
    /// A TOML configuration file; RESONANCE__SECTION__KEY environment variables override it.
    #[arg(long, short, global = true, env = "RESONANCE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every service in one process (the embedded default: SQLite).
    Up,
    /// Run ScoringService only.
    Scoring,
    /// Run RosterService and CampaignService only.
    Roster,
    /// Run IngestService only.
    Ingest,
    /// Apply pending database migrations.
    Migrate,
    /// Import creator records from a file into the configured database: JSONL in the
    /// canonical record format, or a CSV export read through a column mapping (see README).
    Import {
        /// The file. `.csv` files, or any file given with --mapping or --map, are read as CSV.
        file: PathBuf,
        /// A TOML column mapping for a CSV file (examples in deploy/mappings/).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// What each CSV row is when no mapping file says: profile or post.
        #[arg(long, value_parser = ["profile", "post"])]
        record: Option<String>,
        /// FIELD=COLUMN or FIELD:=VALUE, adding to or overriding the mapping; repeatable.
        /// COLUMN is a header ("Followers"), an occurrence ("Followers#2") or a position ("@3").
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// The brand (its id, as `brand list` prints it) the file's conversion records belong
        /// to; without it they are dead-lettered.
        #[arg(long)]
        brand: Option<i64>,
    },
    /// Score every creator whose data changed since it was last scored, and exit. Services
    /// do this in the background; this is for batch jobs and after changing the model.
    Rescore {
        /// Score every stored creator again (after a change of the scoring configuration).
        #[arg(long)]
        all: bool,
    },
    /// Print the configuration in effect (secrets redacted) and exit.
    Config,
    /// Ask a server's gRPC health service whether it serves (plaintext); exit 0 when SERVING,
    /// 1 otherwise. For container health checks: `resonance health 127.0.0.1:50051`.
    Health {
        /// HOST:PORT of the server.
        addr: String,
        /// A service name to ask about (default: the server as a whole).
        #[arg(long, default_value = "")]
        service: String,
        /// Give up after this long.
        #[arg(long, default_value = "3s", value_parser = humantime_duration)]
        timeout: std::time::Duration,
    },
    /// The fake-follower classifier.
    #[command(subcommand)]
    Authenticity(AuthenticityCommand),
    /// Brands (tenants) and their API keys.
    #[command(subcommand)]
    Brand(BrandCommand),
}

#[derive(Debug, Subcommand)]
enum BrandCommand {
    /// Create a brand; prints its first API key, once.
    Create {
        /// The brand's name.
        name: String,
    },
    /// List brands.
    List,
    /// List a brand's keys (their first characters; keys are not kept).
    Keys {
        /// The brand's id, as `brand list` prints it.
        brand: i64,
    },
    /// Add an API key to a brand (to rotate keys: add, deploy, revoke the old); prints it once.
    AddKey { brand: i64 },
    /// Revoke an API key by id; it stops working within `auth.cache_ttl`.
    Revoke { key: i64 },
}

#[derive(Debug, Subcommand)]
enum AuthenticityCommand {
    /// Train on labelled followers, print cross-validated accuracy, write the model.
    Train {
        /// Files or folders: `.json` arrays in the InstaFake format, or `.jsonl` with the
        /// canonical follower fields and `"fake": true|false`.
        #[arg(long, required = true, num_args = 1..)]
        data: Vec<PathBuf>,
        /// Where to write the model (JSON); point `scoring.authenticity_model` at it.
        #[arg(long)]
        out: PathBuf,
        /// Folds of the cross-validation.
        #[arg(long, default_value_t = 10)]
        folds: usize,
        /// Where the data comes from and under which license, recorded in the model.
        #[arg(long, default_value = "user-supplied labelled followers")]
        source: String,
    },
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("resonance: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("resonance: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Inside the runtime: the trace exporter, when configured, connects from there.
    let telemetry = {
        let _inside = runtime.enter();
        telemetry::init(&settings.telemetry)
    };
    let ended = runtime.block_on(run(cli.command, settings));
    telemetry.shutdown();
    match ended {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "resonance failed");
            eprintln!("resonance: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    let role = match command {
        Command::Up => Role::All,
        Command::Scoring => Role::Scoring,
        Command::Roster => Role::Roster,
        Command::Ingest => Role::Ingest,
        Command::Migrate => {
            let store = resonance_store::Store::connect(&settings.database)
                .await
                .context("cannot open the database")?;
            let pending = store.pending_migrations().await?;
            store.migrate().await?;
            println!(
                "applied {} migration(s) on {}",
                pending.len(),
                store.backend()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::Import {
            file,
            mapping,
            record,
            map,
            brand,
        } => {
            let format = file_format(&file, mapping.as_deref(), record.as_deref(), &map)?;
            return import(&settings, &file, format, brand).await;
        }
        Command::Authenticity(AuthenticityCommand::Train {
            data,
            out,
            folds,
            source,
        }) => {
            let evaluation = crate::authenticity::train(&data, &out, folds, &source)?;
            println!(
                "{}-fold cross-validation over {} followers: accuracy {:.1}%, precision on fakes {:.1}%, recall on fakes {:.1}%, balanced accuracy {:.1}%",
                evaluation.folds,
                evaluation.samples,
                evaluation.accuracy * 100.0,
                evaluation.precision * 100.0,
                evaluation.recall * 100.0,
                evaluation.balanced_accuracy * 100.0
            );
            println!("model written to {}", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Rescore { all } => {
            let store = open_store(&settings).await?;
            let engine = crate::app::engine(&settings)?;
            if all {
                let queued = store.scores().enqueue_all(chrono::Utc::now()).await?;
                println!("queued {queued} creator(s)");
            }
            let rescorer = resonance_scoring::Rescorer::new(
                store.clone(),
                Arc::clone(&engine),
                settings.scoring.rescore.clone(),
            );
            let started = std::time::Instant::now();
            let round = rescorer.drain().await?;
            println!(
                "scored {} creator(s) of {} due in {:.1}s",
                round.scored,
                round.claimed,
                started.elapsed().as_secs_f64()
            );
            if all {
                // The first pass ranked against the population as it was; rank once more
                // against the one it left.
                store.scores().enqueue_all(chrono::Utc::now()).await?;
                let again = rescorer.drain().await?;
                println!(
                    "ranked {} creator(s) again against the rescored population; {:.1}s in all",
                    again.scored,
                    started.elapsed().as_secs_f64()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Brand(command) => return brand(&settings, command).await,
        Command::Health {
            addr,
            service,
            timeout,
        } => return health(&addr, service, timeout).await,
        Command::Config => {
            use std::io::Write as _;
            // A closed pipe (`resonance config | head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout(), "{settings:#?}");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let app = Application::build(settings, role).await?;
    for name in ["scoring", "roster", "ingest"] {
        if let Some(addr) = app.addr(name) {
            println!("{name} listening on {addr}");
        }
    }
    let (trigger, shutdown) = shutdown_channel();
    tokio::spawn(on_signals(trigger));
    app.run_until_stopped(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

async fn brand(settings: &Settings, command: BrandCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let brands = store.brands();
    let now = chrono::Utc::now();
    let known = |id: i64| {
        let brands = store.brands();
        async move {
            brands
                .get(resonance_store::BrandId(id))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no brand {id}"))
        }
    };
    match command {
        BrandCommand::Create { name } => {
            let (brand, key) = brands.create(&name, now).await?;
            println!("brand {} ({}) created", brand.id.0, brand.name);
            println!(
                "api key {} (shown once; only its hash is kept):",
                key.info.id
            );
            println!("{}", key.secret);
        }
        BrandCommand::List => {
            for brand in brands.list().await? {
                println!(
                    "{}\t{}\t{}",
                    brand.id.0,
                    brand.name,
                    brand.created_at.to_rfc3339()
                );
            }
        }
        BrandCommand::Keys { brand } => {
            let brand = known(brand).await?;
            for key in brands
                .keys(brand.id, None, resonance_store::NO_LIMIT)
                .await?
            {
                let state = key.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |at| format!("revoked {}", at.to_rfc3339()),
                );
                println!(
                    "{}\t{}\t{}\t{}",
                    key.id,
                    key.prefix,
                    key.created_at.to_rfc3339(),
                    state
                );
            }
        }
        BrandCommand::AddKey { brand } => {
            let brand = known(brand).await?;
            let (key, secret) = brands.create_key(brand.id, "", None, now).await?;
            println!("api key {} for brand {} (shown once):", key.id, brand.id.0);
            println!("{}", secret.unwrap_or_default());
        }
        BrandCommand::Revoke { key } => {
            if !brands.revoke_any(key, now).await? {
                anyhow::bail!("no active key {key}");
            }
            println!("api key {key} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first SIGINT or SIGTERM starts a graceful shutdown; a second exits at once.
async fn on_signals(trigger: ShutdownTrigger) {
    let first = wait_for_signal().await;
    tracing::info!(
        signal = first,
        "shutdown requested; a second signal exits at once"
    );
    trigger.trigger();
    let second = wait_for_signal().await;
    tracing::warn!(signal = second, "second signal: exiting now");
    std::process::exit(130);
}

async fn wait_for_signal() -> &'static str {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the process");
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

/// The format of an import from the command line: CSV when a mapping is given or the file
/// ends in `.csv`, JSONL otherwise.
fn file_format(
    file: &std::path::Path,
    mapping: Option<&std::path::Path>,
    record: Option<&str>,
    assignments: &[String],
) -> anyhow::Result<FileFormat> {
    let is_csv = file
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    if mapping.is_none() && record.is_none() && assignments.is_empty() {
        anyhow::ensure!(
            !is_csv,
            "{}: a CSV file needs a column mapping (--mapping FILE, or --record and --map)",
            file.display()
        );
        return Ok(FileFormat::Jsonl);
    }
    let mut csv_mapping = match mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the mapping {}", path.display()))?;
            CsvMapping::from_toml(&text).with_context(|| path.display().to_string())?
        }
        None => CsvMapping::new(match record {
            Some("post") => RowKind::Post,
            _ => RowKind::Profile,
        }),
    };
    if let Some(record) = record {
        csv_mapping.record = if record == "post" {
            RowKind::Post
        } else {
            RowKind::Profile
        };
    }
    for assignment in assignments {
        csv_mapping
            .set(assignment)
            .with_context(|| format!("--map {assignment}"))?;
    }
    csv_mapping.check()?;
    Ok(FileFormat::Csv(csv_mapping))
}

async fn import(
    settings: &Settings,
    file: &std::path::Path,
    format: FileFormat,
    brand: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let brand = match brand {
        Some(id) => Some(
            store
                .brands()
                .get(resonance_store::BrandId(id))
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("--brand: no brand {id} (see `resonance brand list`)")
                })?
                .id,
        ),
        None => None,
    };
    let started = std::time::Instant::now();
    // On a terminal: a bar with rate and ETA; elsewhere it draws nothing.
    let bar = ProgressBar::new(std::fs::metadata(file).map(|m| m.len()).unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = resonance_ingest::import_file_for(&store, file, format, brand, |progress| {
        bar.set_position(progress.bytes_read);
        let elapsed = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} records ({:.0}/s)",
            progress.counts.total(),
            progress.counts.total() as f64 / elapsed
        ));
    })
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    for rejection in &summary.rejections {
        let field = if rejection.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", rejection.field)
        };
        eprintln!(
            "{} {}: {field}{}",
            file.display(),
            rejection.position,
            rejection.message
        );
    }
    let counts = summary.counts;
    if counts.rejected as usize > summary.rejections.len() {
        eprintln!(
            "... and {} more; all are in the dead-letter store (ListDeadLetters, job {})",
            counts.rejected as usize - summary.rejections.len(),
            summary.job.id
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "imported {} in {elapsed:.2}s ({:.0} records/s): accepted {} ({} created, {} updated, {} unchanged), rejected {}, dead-lettered {}; job ingestJobs/{}",
        file.display(),
        counts.total() as f64 / elapsed.max(1e-3),
        counts.created + counts.updated + counts.unchanged,
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.rejected,
        counts.rejected,
        summary.job.id
    );
    store.close().await?;
    Ok(ExitCode::SUCCESS)
}

fn humantime_duration(raw: &str) -> Result<std::time::Duration, String> {
    humantime_serde::re::humantime::parse_duration(raw).map_err(|e| e.to_string())
}

/// `resonance health ADDR`: one gRPC health check.
async fn health(
    addr: &str,
    service: String,
    timeout: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let check = async {
        let channel =
            resonance_proto::tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
                .connect()
                .await?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest { service })
            .await?
            .into_inner()
            .status();
        anyhow::Ok(status)
    };
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(ServingStatus::Serving)) => {
            println!("SERVING");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Ok(status)) => {
            println!("{}", status.as_str_name());
            Ok(ExitCode::FAILURE)
        }
        Ok(Err(error)) => {
            eprintln!("resonance health: {addr}: {error:#}");
            Ok(ExitCode::FAILURE)
        }
        Err(_) => {
            eprintln!("resonance health: {addr}: no answer within {timeout:?}");
            Ok(ExitCode::FAILURE)
        }
    }
}
