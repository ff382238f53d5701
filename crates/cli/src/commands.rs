//! The `resonance` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::app::{Application, Role, open_store};
use crate::config::Settings;
use crate::server::{ShutdownTrigger, shutdown_channel};
use crate::telemetry;
use anyhow::Context;
use clap::{Parser, Subcommand};

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
    /// Import creator records from a JSONL file into the configured database.
    Import {
        /// The file, in the canonical JSONL record format (see README).
        file: PathBuf,
    },
    /// Print the configuration in effect (secrets redacted) and exit.
    Config,
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
    telemetry::init(&settings.telemetry);
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
    match runtime.block_on(run(cli.command, settings)) {
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
        Command::Import { file } => return import(&settings, &file).await,
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

async fn import(settings: &Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let total_bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let started = std::time::Instant::now();
    let summary = resonance_ingest::import_jsonl(&store, file, |bytes, counts| {
        let percent = if total_bytes == 0 {
            100.0
        } else {
            bytes as f64 * 100.0 / total_bytes as f64
        };
        let rate = counts.total() as f64 / started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\rimporting {}: {percent:5.1}% ({} records, {rate:.0}/s)   ",
            file.display(),
            counts.total()
        );
    })
    .await?;
    eprintln!();
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
    println!(
        "imported {}: {} created, {} updated, {} unchanged, {} rejected (dead-lettered) in {:.2}s; job ingestJobs/{}",
        file.display(),
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.rejected,
        started.elapsed().as_secs_f64(),
        summary.job.id
    );
    store.close().await?;
    Ok(ExitCode::SUCCESS)
}
