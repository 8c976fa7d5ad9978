//! feeds.toml: the typed, validated configuration (server, fetch defaults, sources,
//! compiled topics) and `load`, which reports every problem with file:line:col.

mod error;
mod raw;
pub mod store_tls;
mod suggest;
pub(crate) mod units;
mod validate;

pub use error::{line_column, ConfigError, ConfigErrors};

use crate::select::Topic;
use crate::sources::SourceConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from (for messages and reload).
    pub path: PathBuf,
    pub server: ServerConfig,
    pub defaults: Defaults,
    pub sources: Vec<SourceConfig>,
    pub topics: Vec<Topic>,
    /// `[push]`: WebSub hubs.
    pub push: PushConfig,
    /// `[store]`: sled under `data_dir`, or a PostgreSQL database.
    pub store: StoreConfig,
    /// `[[webhook]]`s.
    pub webhooks: Vec<WebhookConfig>,
    /// `[llm]`: the language model behind topics with `summaries = "llm"`.
    pub llm: Option<LlmConfig>,
    /// Why the embedding model could not be loaded, when some topic has `[topic.about]`
    /// (those topics then fall back to keywords). Set when the config is made live.
    pub model_problem: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Public address of the server, for self links and OPML; never ends with `/`.
    pub base_url: String,
    /// Relative paths in the file are resolved against the file's own directory.
    pub data_dir: PathBuf,
    /// A client that has not sent its request headers by then is disconnected.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Bytes the render cache may hold.
    pub cache_bytes: u64,
    /// A response must be sent within this, or the connection is dropped.
    pub send_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Defaults {
    pub poll: Duration,
    pub timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
    pub summary_words: usize,
    /// At most this many entries of one fetch are kept (the newest).
    pub max_entries: usize,
    /// Lets URLs from source content (article links) and redirect hops reach loopback,
    /// private, link-local and other non-public addresses. Off by default.
    pub allow_private_networks: bool,
    /// `model_dir`: where the embedding model's files are (else see `Config::model_dir`).
    pub model_dir: Option<PathBuf>,
}

/// `[push]`: the WebSub hubs every feed names, pinged when a topic's feed changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PushConfig {
    pub hubs: Vec<Url>,
    /// One topic pings at most once per this.
    pub min_interval: Duration,
}

/// `[store]`: where stories are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// A PostgreSQL URL; none: sled under `server.data_dir`. `FEEDSIFT_STORE_URL` (read by
    /// the binary) overrides it.
    pub url: Option<String>,
    /// This node's name among the nodes of one database; none: host name and process id.
    pub node_id: Option<String>,
    /// Connections to the database this node opens.
    pub connections: usize,
    /// How long a node's lease on a source or a piece of work lasts unless renewed.
    pub lease: Duration,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            url: None,
            node_id: None,
            connections: validate::store::DEFAULT_CONNECTIONS as usize,
            lease: validate::store::DEFAULT_LEASE,
        }
    }
}

/// One `[[webhook]]`: new items of its topics are POSTed to `url`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub url: Url,
    /// The topics it hears of; `None`: every topic.
    pub topics: Option<Vec<String>>,
    /// The name of the environment variable the key was read from (safe to show).
    pub secret_env: Option<String>,
    pub secret: Option<Secret>,
    /// A delivery still failing this long after it was made is given up on.
    pub retry_for: Duration,
}

impl WebhookConfig {
    /// Its name in the store, in delivery ids and in `/healthz`: a hash of its URL (which
    /// may carry a token).
    pub fn key(&self) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(self.url.as_str().as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The URL as `/healthz` shows it: without user, password, query or fragment, where
    /// receivers put their tokens.
    pub fn shown_url(&self) -> String {
        let mut shown = self.url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.set_fragment(None);
        shown.to_string()
    }

    pub fn hears(&self, slug: &str) -> bool {
        self.topics
            .as_ref()
            .is_none_or(|t| t.iter().any(|s| s == slug))
    }
}

/// A webhook's HMAC key. Its `Debug` says only that there is one, so no log, error or
/// `check` output can carry it.
#[derive(Clone, PartialEq)]
pub struct Secret(pub(crate) Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// `[llm]`: an OpenAI-compatible chat completions endpoint and what it may cost. The API key
/// is never here: only the name of the environment variable holding it.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL, e.g. `http://127.0.0.1:11434/v1`; requests go to `{endpoint}/chat/completions`.
    pub endpoint: Url,
    pub model: String,
    /// Name of the environment variable holding the API key (none: no `Authorization`).
    pub api_key_env: Option<String>,
    /// Whole-request limit of one call, body included.
    pub timeout: Duration,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Calls per clock hour, a hard budget.
    pub max_per_hour: u32,
    /// Words of a story's text sent at most.
    pub max_input_words: usize,
    /// The operator's instructions, replacing the default ones (the rules that keep the
    /// article as data are always added).
    pub prompt: Option<String>,
}

impl std::fmt::Debug for LlmConfig {
    // The endpoint may carry credentials in its user-info: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("model", &self.model)
            .field("api_key_env", &self.api_key_env)
            .field("timeout", &self.timeout)
            .field("concurrency", &self.concurrency)
            .field("max_per_hour", &self.max_per_hour)
            .field("max_input_words", &self.max_input_words)
            .finish_non_exhaustive()
    }
}

impl LlmConfig {
    /// The API key from the environment: `Ok(None)` when none is configured, `Err` (the
    /// variable's name, never a value) when it is configured but unset or empty.
    pub fn api_key(&self) -> Result<Option<String>, String> {
        let Some(name) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            _ => Err(format!("environment variable {name} is not set")),
        }
    }
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::at(
                path,
                "",
                None,
                None,
                format!("cannot read config: {e}"),
            )])
        })?;
        Config::parse(path, &text)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
        validate::validate(path, text)
    }

    pub fn topic(&self, slug: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.slug == slug)
    }

    /// The sources `topic` reads, in config order.
    pub fn sources_of<'a>(&'a self, topic: &'a Topic) -> impl Iterator<Item = &'a SourceConfig> {
        self.sources.iter().filter(|s| topic.reads(&s.id))
    }

    /// Some topic reads the article pages of its link posts (`summaries = "article"` or `"llm"`).
    pub fn reads_articles(&self) -> bool {
        self.topics.iter().any(|t| t.summaries.reads_articles())
    }

    /// Some topic shows the language model's summaries (`summaries = "llm"`).
    pub fn uses_llm(&self) -> bool {
        self.llm.is_some() && self.topics.iter().any(|t| t.summaries.uses_llm())
    }

    /// Some topic has a semantic rule (`[topic.about]`): stories need embeddings.
    pub fn uses_about(&self) -> bool {
        self.topics.iter().any(|t| t.rules.about.is_some())
    }

    /// Where the embedding model is read from: `[defaults] model_dir`, else the directory
    /// `FEEDSIFT_MODEL_DIR` named when the process started (`set_env_model_dir`), else the
    /// cache directory (`$XDG_CACHE_HOME` or `~/.cache`, `feedsift/models/all-MiniLM-L6-v2`).
    pub fn model_dir(&self) -> Option<PathBuf> {
        self.defaults
            .model_dir
            .clone()
            .or_else(|| ENV_MODEL_DIR.get().cloned())
            .or_else(crate::semantic::model_files::default_cache_dir)
    }

    /// Slugs of the topics with `[topic.about]` judged on keywords alone because their
    /// phrases have no embeddings (the model is missing).
    pub fn topics_falling_back(&self) -> Vec<String> {
        self.topics
            .iter()
            .filter(|t| t.rules.about.as_ref().is_some_and(|a| !a.is_active()))
            .map(|t| t.slug.clone())
            .collect()
    }

    /// Slugs of the topics with `[topic.about]` (those that fall back to keywords when the
    /// model is missing).
    pub fn topics_falling_back_if_missing(&self) -> Vec<String> {
        self.topics
            .iter()
            .filter(|t| t.rules.about.is_some())
            .map(|t| t.slug.clone())
            .collect()
    }

    /// Sources some full-content topic reads: their source HTML is kept at ingest.
    pub fn full_content_sources(&self) -> std::collections::HashSet<String> {
        self.sources
            .iter()
            .filter(|s| self.topics.iter().any(|t| t.full_content && t.reads(&s.id)))
            .map(|s| s.id.clone())
            .collect()
    }

    /// How long stories are worth keeping: the longest topic window.
    pub fn longest_window(&self) -> Duration {
        self.topics
            .iter()
            .map(|t| t.window)
            .max()
            .unwrap_or(Duration::from_secs(30 * 86_400))
    }
}

/// Things that are valid but probably not what the author meant: topics that can never
/// match, sources that no topic reads.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for t in &config.topics {
        if t.sources.as_ref().is_some_and(Vec::is_empty) {
            out.push(format!(
                "topic {:?} can never match: `sources` is empty",
                t.slug
            ));
        } else if t.rules.about.is_some() {
            // Similarity can admit what keywords alone cannot.
        } else if t.rules.keywords.is_empty() && t.rules.min_relevance > 0.0 {
            out.push(format!(
                "topic {:?} can never match: min_relevance is {} but it has no keywords",
                t.slug, t.rules.min_relevance
            ));
        } else if t
            .rules
            .keywords
            .iter()
            .map(|k| k.weight.max(0.0))
            .sum::<f64>()
            < t.rules.min_relevance
        {
            out.push(format!("topic {:?} can never match: all its keywords together weigh less than min_relevance {}", t.slug, t.rules.min_relevance));
        }
    }
    if let Some(Err(problem)) = config.llm.as_ref().map(LlmConfig::api_key) {
        out.push(format!(
            "llm: {problem}: topics with summaries = \"llm\" keep their extractive summaries until it is"
        ));
    }
    for s in &config.sources {
        let used = config.topics.iter().any(|t| t.reads(&s.id));
        if !used {
            out.push(format!(
                "source {:?} is used by no topic (it is still polled)",
                s.id
            ));
        }
    }
    out
}

/// The model directory `FEEDSIFT_MODEL_DIR` named (main.rs reads the variable).
static ENV_MODEL_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Records the model directory given by the environment (`FEEDSIFT_MODEL_DIR`), used when
/// the config sets no `model_dir`. The first call wins.
pub fn set_env_model_dir(dir: PathBuf) {
    let _ = ENV_MODEL_DIR.set(dir);
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_POLL: Duration = Duration::from_secs(15 * 60);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_MAX_BODY: u64 = 15 * 1024 * 1024;
/// Bounds of `max_body`: a whole body is held in memory.
pub const MIN_MAX_BODY: u64 = 1024;
pub const MAX_MAX_BODY: u64 = 256 * 1024 * 1024;
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;
pub const MIN_CACHE_BYTES: u64 = 1024 * 1024;
pub const MAX_CACHE_BYTES: u64 = 16 * 1024 * 1024 * 1024;
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_ENTRIES: usize = 1000;
pub const MAX_ENTRIES_LIMIT: usize = 100_000;
/// The longest timeout (`timeout`, `header_timeout`, `send_timeout`).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The longest duration of any kind (100 years): longer ones overflow date arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 86_400);
pub const DEFAULT_LIMIT: usize = 30;
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(60);
/// Polling faster than this is refused: it is impolite to the sites polled.
pub const MIN_POLL: Duration = Duration::from_secs(60);

pub fn default_user_agent() -> String {
    format!(
        "feedsift/{} (+https://github.com/feedsift/feedsift)",
        env!("CARGO_PKG_VERSION")
    )
}
