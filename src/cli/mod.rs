//! The commands behind the `feedsift` CLI: glue from parsed arguments to the library, and
//! what each prints. `main.rs` only parses and dispatches.

pub(crate) mod export;
pub mod fetch_once;
pub(crate) mod opml_import;
mod progress;
mod remote;

use crate::config::Config;
use crate::select::explain;
use crate::store::{Store, StoreError};
use crate::topics::{health, semantic, views};

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub fn check(config: &Config) {
    println!("{}: ok", config.path.display());
    let data = match &config.store.url {
        None => config.server.data_dir.display().to_string(),
        Some(url) => format!(
            "PostgreSQL {} as node {} ({} connections, lease {})",
            crate::store::postgres::redacted(url),
            config
                .store
                .node_id
                .clone()
                .unwrap_or_else(crate::store::postgres::default_node_id),
            config.store.connections,
            crate::config::units::format_duration(config.store.lease)
        ),
    };
    println!(
        "  {} sources, {} topics, data in {data}",
        config.sources.len(),
        config.topics.len(),
    );
    if config.defaults.allow_private_networks {
        println!("  allow_private_networks is on: links and redirects from sources may reach loopback and private addresses");
    }
    for s in &config.sources {
        println!(
            "  source {:<24} {:<10} every {:<6} {}",
            s.id,
            s.kind.name(),
            crate::config::units::format_duration(s.poll),
            s.url
        );
    }
    for t in &config.topics {
        let about = t.rules.about.as_ref().map_or_else(String::new, |a| {
            let unlike = a.phrases.iter().filter(|p| p.unlike).count();
            let unlike = if unlike > 0 {
                format!(", {unlike} unlike")
            } else {
                String::new()
            };
            let phrases = a.phrases.iter().filter(|p| !p.unlike).count();
            format!(", about {phrases} phrases{unlike} at {:.2}", a.threshold)
        });
        println!(
            "  topic  {:<24} {} keywords{about}, window {}, limit {}, sort {}",
            t.slug,
            t.rules.keywords.len(),
            crate::config::units::format_duration(t.window),
            t.limit,
            t.sort.name()
        );
    }
    for hub in &config.push.hubs {
        println!(
            "  hub    {hub} (each topic pings at most every {})",
            crate::config::units::format_duration(config.push.min_interval)
        );
    }
    for w in &config.webhooks {
        // The shown URL and the variable's name only: never the key, nor a token in the query.
        let topics = w
            .topics
            .as_ref()
            .map_or("all topics".to_string(), |t| t.join(", "));
        let signed = w
            .secret_env
            .as_ref()
            .map_or("unsigned".to_string(), |n| format!("signed with ${n}"));
        println!("  webhook {} for {topics}, {signed}", w.shown_url());
    }
    if let Some(llm) = &config.llm {
        let users: Vec<&str> = config
            .topics
            .iter()
            .filter(|t| t.summaries.uses_llm())
            .map(|t| t.slug.as_str())
            .collect();
        // The host only: an endpoint's user-info may hold credentials.
        println!(
            "  llm    model {} at {}, at most {} calls an hour, for topics: {}",
            llm.model,
            llm.endpoint.host_str().unwrap_or("?"),
            llm.max_per_hour,
            if users.is_empty() {
                "none".to_string()
            } else {
                users.join(", ")
            }
        );
    }
    for warning in crate::config::warnings(config) {
        println!("warning: {warning}");
    }
    if config.uses_about() {
        if let Err(e) = semantic::load_model(config) {
            println!("warning: {}", semantic::fallback_warning(config, &e));
        }
    }
}

/// The config with its `[topic.about]` phrases embedded (or marked as falling back to
/// keywords, with one warning on stderr), for commands that judge stories themselves.
pub fn live_config(config: &Config, store: Option<&Store>) -> Config {
    let mut live = config.clone();
    let loaded = semantic::model_for(config);
    if let Err(e) = &loaded {
        eprintln!("warning: {}", semantic::fallback_warning(config, e));
    }
    let problem = loaded.as_ref().err().cloned();
    let embedder = loaded.ok().flatten();
    for w in semantic::attach(&mut live, embedder.as_ref(), problem.as_deref(), store) {
        eprintln!("warning: {w}");
    }
    live
}

/// `feedsift model status`: where the model is read from, its files and their hash.
pub fn model_status(config: &Config) -> anyhow::Result<()> {
    let dir = config.model_dir().ok_or_else(|| {
        anyhow::anyhow!("no model directory: set [defaults] model_dir or FEEDSIFT_MODEL_DIR")
    })?;
    let status = crate::semantic::model_files::check(&dir);
    println!("{status}");
    if !status.is_complete() {
        anyhow::bail!(
            "the model in {} is missing or damaged (run `feedsift model fetch`)",
            dir.display()
        );
    }
    Ok(())
}

/// `feedsift model fetch`: downloads the model's files from the Hugging Face hub.
pub fn model_fetch(config: &Config) -> anyhow::Result<()> {
    let dir = config.model_dir().ok_or_else(|| {
        anyhow::anyhow!("no model directory: set [defaults] model_dir or FEEDSIFT_MODEL_DIR")
    })?;
    runtime()?.block_on(crate::semantic::model_files::fetch_from_hub(&dir))?;
    println!("{}", crate::semantic::model_files::check(&dir));
    Ok(())
}

pub fn fetch(config: Config) -> anyhow::Result<()> {
    fetch_once::run(config)
}

pub fn status(config: &Config) -> anyhow::Result<()> {
    let report = match Store::open_for(config) {
        Ok(store) => health::report(&live_config(config, Some(&store)), &store),
        Err(StoreError::Locked { .. }) => {
            serde_json::from_slice(&from_daemon(config, "/healthz")?)?
        }
        Err(e) => return Err(e.into()),
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.is_ok() {
        anyhow::bail!(
            "some source states cannot be read or were not written (see state_error above)"
        );
    }
    Ok(())
}

pub fn explain(
    config: &Config,
    slug: &str,
    all: bool,
    story: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let topic = config.topic(slug).ok_or_else(|| {
        let known: Vec<&str> = config.topics.iter().map(|t| t.slug.as_str()).collect();
        anyhow::anyhow!("unknown topic {slug:?} (topics: {})", known.join(", "))
    })?;
    let canonical = story.map(crate::normalize::canonical_url).transpose()?;
    let explanation = match Store::open_for(config) {
        Ok(store) => {
            let filter = explain::Filter {
                all,
                canonical_url: canonical,
            };
            let live = live_config(config, Some(&store));
            let topic = live.topic(slug).unwrap_or(topic);
            views::explain_topic(&live, &store, topic, &filter, chrono::Utc::now())?
        }
        Err(StoreError::Locked { .. }) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if all {
                query.append_pair("all", "1");
            }
            if let Some(story) = story {
                query.append_pair("story", story);
            }
            serde_json::from_slice(&from_daemon(
                config,
                &format!("/api/explain/{slug}?{}", query.finish()),
            )?)?
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{}", explanation.to_table());
    }
    Ok(())
}

pub fn import_opml(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let entries =
        opml_import::parse_opml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (added, skipped) = opml_import::plan(config, &entries);
    for (entry, reason) in &skipped {
        println!("skipped {:<40} {} ({reason})", entry.title, entry.xml_url);
    }
    if added.is_empty() {
        println!(
            "nothing to add: {} feeds in {}, all skipped",
            entries.len(),
            file.display()
        );
        return Ok(());
    }
    let current = std::fs::read_to_string(&config.path)?;
    let updated = opml_import::append_sources(&current, &added, &file.display().to_string());
    // Never write a config the daemon could not load.
    Config::parse(&config.path, &updated).map_err(|e| {
        anyhow::anyhow!("the imported sources would make the config invalid, nothing written:\n{e}")
    })?;
    std::fs::write(&config.path, updated)?;
    for s in &added {
        println!("added   {:<40} {} (id {})", s.name, s.url, s.id);
    }
    println!(
        "{} sources added to {}, {} skipped",
        added.len(),
        config.path.display(),
        skipped.len()
    );
    Ok(())
}

pub fn export(config: &Config, out: &std::path::Path) -> anyhow::Result<()> {
    let plan = export::plan(config);
    let store = match Store::open_for(config) {
        Ok(store) => Some(store),
        Err(StoreError::Locked { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let live = match &store {
        Some(store) => live_config(config, Some(store)),
        None => config.clone(),
    };
    let config = &live;
    let now = chrono::Utc::now();
    let (mut written, mut unchanged) = (0, 0);
    for file in &plan {
        let bytes = match &store {
            Some(store) => export::render_local(config, store, file, now)?,
            None => from_daemon(config, &file.server_path)?,
        };
        if export::write_if_changed(out, &file.file, &bytes)? {
            println!("wrote {}", out.join(&file.file).display());
            written += 1;
        } else {
            unchanged += 1;
        }
    }
    println!(
        "{written} files written, {unchanged} unchanged in {}",
        out.display()
    );
    Ok(())
}

/// The store is held by a running daemon: ask it instead.
fn from_daemon(config: &Config, path: &str) -> anyhow::Result<Vec<u8>> {
    let rt = runtime()?;
    rt.block_on(remote::get(config, path)).map_err(|e| {
        anyhow::anyhow!(
            "the store at {} is in use by another process, and asking the daemon failed: {e}",
            config.server.data_dir.display()
        )
    })
}
