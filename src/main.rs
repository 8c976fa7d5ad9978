//! The `feedsift` command line: parses arguments and dispatches; logic lives in the library.

use clap::{Parser, Subcommand};
use feedsift::config::Config;
use feedsift::daemon;
use feedsift::hosts::HostLimits;
use feedsift::store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "feedsift",
    version,
    about = "Curated topic feeds from Hacker News, Reddit, Lobsters, Dev.to and any feed"
)]
struct Cli {
    /// Path to the config file.
    #[arg(long, global = true, default_value = "./feeds.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Poll every source on its interval and serve the topic feeds.
    Serve,
    /// Poll every source once, store what is new, print one line per source.
    Fetch {
        /// Poll once and exit (the only mode: continuous polling is `serve`).
        #[arg(long)]
        once: bool,
    },
    /// Validate the config and print what it defines.
    Check,
    /// Show each source's fetch state (last attempt, errors, next poll) as JSON.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    let verbose = matches!(cli.command, Command::Serve);
    init_logs(verbose);
    let result = match cli.command {
        Command::Check => {
            check(&config);
            Ok(())
        }
        Command::Fetch { once: _ } => fetch(config),
        Command::Serve => runtime().and_then(|rt| rt.block_on(daemon::serve(config))),
        Command::Status => status(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedsift: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init_logs(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn check(config: &Config) {
    println!("{}: ok", config.path.display());
    println!(
        "  {} sources, {} topics, data in {}",
        config.sources.len(),
        config.topics.len(),
        config.server.data_dir.display()
    );
    for s in &config.sources {
        println!(
            "  source {:<24} {:<10} every {:<6} {}",
            s.id,
            s.kind.name(),
            feedsift::config::units::format_duration(s.poll),
            s.url
        );
    }
    for t in &config.topics {
        println!(
            "  topic  {:<24} {} keywords, window {}, limit {}, sort {}",
            t.slug,
            t.rules.keywords.len(),
            feedsift::config::units::format_duration(t.window),
            t.limit,
            t.sort.name()
        );
    }
}

fn fetch(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.server.data_dir)?;
    let ingester = daemon::ingester(&config, store.clone())?;
    let articles = daemon::article_worker(&config, store.clone())?;
    let rt = runtime()?;
    rt.block_on(async {
        daemon::fetch_once(&config, &ingester, |report| println!("{report}")).await;
        let report = articles
            .run_once(&config, &HostLimits::default(), usize::MAX)
            .await;
        if report.summarized + report.failed > 0 {
            println!(
                "{:<24} {} summarized, {} failed (retried later)",
                "articles", report.summarized, report.failed
            );
        }
    });
    store.flush()?;
    Ok(())
}

fn status(config: &Config) -> anyhow::Result<()> {
    let store = Store::open(&config.server.data_dir)?;
    let report = feedsift::server::health::report(config, &store);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
