//! The `feedsift` command line: parses arguments and dispatches; logic lives in the library.

use clap::{Parser, Subcommand};
use feedsift::cli::{self as commands, runtime};
use feedsift::config::Config;
use feedsift::daemon;
use std::io::IsTerminal;
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
    /// Log format on stderr: `text` (human-readable) or `json` (one object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    /// Show why each candidate story is or is not in a topic.
    Explain {
        /// The topic's slug.
        topic: String,
        /// List every candidate in the window, not only those in the feed or matching a keyword.
        #[arg(long)]
        all: bool,
        /// Only the story at this URL (any decoration of it).
        #[arg(long)]
        story: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add the feeds of a reader's OPML export as `kind = "feed"` sources.
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
    },
    /// The embedding model behind `[topic.about]`: `status` or `fetch`.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Write every topic's feeds, pages and the OPML as static files.
    Export {
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ModelAction {
    /// Where the model is read from, its files, sizes and whether the weights' hash is right.
    Status,
    /// Download the model's files from the Hugging Face hub into the model directory.
    Fetch,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = std::env::var_os(feedsift::semantic::model_files::MODEL_DIR_ENV) {
        feedsift::config::set_env_model_dir(PathBuf::from(dir));
    }
    let mut config = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    // The environment names the database where the file may not (a password in a secret).
    if let Some(url) = std::env::var_os("FEEDSIFT_STORE_URL") {
        config.store.url = Some(url.to_string_lossy().into_owned());
    }
    let verbose = matches!(cli.command, Command::Serve);
    init_logs(verbose, cli.log_format);
    let result = match cli.command {
        Command::Check => {
            commands::check(&config);
            Ok(())
        }
        Command::Fetch { once: _ } => commands::fetch(config),
        Command::Serve => runtime().and_then(|rt| rt.block_on(daemon::serve(config))),
        Command::Status => commands::status(&config),
        Command::Explain {
            topic,
            all,
            story,
            json,
        } => commands::explain(&config, &topic, all, story.as_deref(), json),
        Command::ImportOpml { file } => commands::import_opml(&config, &file),
        Command::Export { out } => commands::export(&config, &out),
        Command::Model {
            action: ModelAction::Status,
        } => commands::model_status(&config),
        Command::Model {
            action: ModelAction::Fetch,
        } => commands::model_fetch(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedsift: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(verbose: bool, format: LogFormat) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}
