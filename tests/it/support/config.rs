//! Builders for feeds.toml, so a test states only the sources and topics it needs and the
//! keys where they differ from the test defaults:
//!
//! ```text
//! config()
//!     .poll("10m")
//!     .source(hn(up.serve("/hn", HN_FRONT_PAGE)))
//!     .topic(topic("ds").title("Distributed Systems").keywords(&[("raft", 3)]))
//!     .to_toml()
//! ```
//!
//! Every builder sets keys by name ([`Source::key`], [`Topic::key`], [`ConfigBuilder::server`])
//! for what has no method of its own yet. A `[[topic]]` built by [`topic`] reads feed text (`summaries = "feed"`) over ten years
//! (`window = "3650d"`), since the fixtures are fixed in time and most tests want no article
//! fetches; [`Topic::article_summaries`] drops the key for the daemon's default. Tests of the
//! config parser's messages (line and column) keep their literal TOML instead.

/// A TOML value, written out by [`Value::toml`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    fn toml(&self) -> String {
        match self {
            Value::Str(s) => quote(s),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Value {
        Value::List(items)
    }
}

impl From<&[&str]> for Value {
    fn from(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| s.to_string()).collect())
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Keys in the order first set; setting a key again replaces its value in place.
#[derive(Clone, Debug, Default)]
struct Table(Vec<(String, Value)>);

impl Table {
    fn set(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `key = value` lines; keys that are not bare TOML keys are quoted.
    fn write(&self, out: &mut String) {
        for (key, value) in &self.0 {
            let bare = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let key = if bare { key.clone() } else { quote(key) };
            out.push_str(&format!("{key} = {}\n", value.toml()));
        }
    }
}

/// A whole feeds.toml: `[server]`, `[defaults]`, `[push]`, `[store]` and `[llm]` (each when a key is
/// set), then every `[[source]]`, `[[topic]]` and `[[webhook]]` in the order added.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    server: Table,
    defaults: Table,
    push: Table,
    store: Table,
    webhooks: Vec<Table>,
    llm: Table,
    sources: Vec<Source>,
    topics: Vec<Topic>,
}

/// An empty feeds.toml, to add to.
pub fn config() -> ConfigBuilder {
    ConfigBuilder::default()
}

impl ConfigBuilder {
    /// A `[server]` key. A `Workspace` sets `listen`, `base_url` and `data_dir` itself.
    pub fn server(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.server.set(key, value);
        self
    }

    /// A `[defaults]` key.
    pub fn default_key(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.defaults.set(key, value);
        self
    }

    /// A `[push]` key (`hubs`, `min_interval`).
    pub fn push(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.push.set(key, value);
        self
    }

    /// A `[store]` key (`url`, `node_id`, `connections`, `lease`).
    pub fn store(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.store.set(key, value);
        self
    }

    /// A `[[webhook]]` with these keys (`url`, `topics`, `secret_env`, `format`).
    pub fn webhook(mut self, keys: &[(&str, Value)]) -> Self {
        let mut table = Table::default();
        for (key, value) in keys {
            table.set(key, value.clone());
        }
        self.webhooks.push(table);
        self
    }

    /// An `[llm]` key: `endpoint`, `model`, `api_key_env`, `max_per_hour`, ...
    pub fn llm(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.llm.set(key, value);
        self
    }

    /// `[defaults] poll`: how often sources are polled.
    pub fn poll(self, every: &str) -> Self {
        self.default_key("poll", every)
    }

    /// `[defaults] timeout`: the whole of one fetch.
    pub fn timeout(self, limit: &str) -> Self {
        self.default_key("timeout", limit)
    }

    /// `[defaults] max_body`, e.g. "1KiB".
    pub fn max_body(self, size: &str) -> Self {
        self.default_key("max_body", size)
    }

    pub fn source(mut self, source: Source) -> Self {
        self.sources.push(source);
        self
    }

    pub fn sources(mut self, sources: impl IntoIterator<Item = Source>) -> Self {
        self.sources.extend(sources);
        self
    }

    pub fn topic(mut self, topic: Topic) -> Self {
        self.topics.push(topic);
        self
    }

    /// The same config with the `[server]` keys a workspace on `port` needs first (keys this
    /// config sets itself win).
    pub fn on_port(&self, port: u16) -> ConfigBuilder {
        let mut server = Table::default();
        server.set("listen", format!("127.0.0.1:{port}"));
        server.set("base_url", format!("http://127.0.0.1:{port}"));
        server.set("data_dir", "data");
        for (key, value) in &self.server.0 {
            server.set(key, value.clone());
        }
        ConfigBuilder {
            server,
            ..self.clone()
        }
    }

    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let tables = [
            ("server", &self.server),
            ("defaults", &self.defaults),
            ("push", &self.push),
            ("store", &self.store),
            ("llm", &self.llm),
        ];
        for (name, table) in tables {
            if !table.is_empty() {
                out.push_str(&format!("[{name}]\n"));
                table.write(&mut out);
                out.push('\n');
            }
        }
        for source in &self.sources {
            out.push_str("[[source]]\n");
            source.keys.write(&mut out);
            out.push('\n');
        }
        for topic in &self.topics {
            topic.write(&mut out);
        }
        for hook in &self.webhooks {
            out.push_str("[[webhook]]\n");
            hook.write(&mut out);
            out.push('\n');
        }
        out
    }
}

/// One `[[source]]`.
#[derive(Clone, Debug)]
pub struct Source {
    keys: Table,
}

/// A `[[source]]` of any kind; site kinds without a `url` read the site itself, which tests
/// never want.
pub fn source(id: &str, kind: &str) -> Source {
    let mut keys = Table::default();
    keys.set("id", id);
    keys.set("kind", kind);
    Source { keys }
}

/// A generic feed (RSS, Atom or JSON Feed) at `url`.
pub fn feed(id: &str, url: impl Into<String>) -> Source {
    source(id, "feed").url(url)
}

/// Hacker News (Algolia JSON) at `url`, id `hn`.
pub fn hn(url: impl Into<String>) -> Source {
    source("hn", "hackernews").url(url)
}

/// /r/programming at `url`, id `reddit-programming`.
pub fn reddit(url: impl Into<String>) -> Source {
    source("reddit-programming", "reddit")
        .key("subreddit", "programming")
        .url(url)
}

/// Lobsters at `url`, id `lobsters`.
pub fn lobsters(url: impl Into<String>) -> Source {
    source("lobsters", "lobsters").url(url)
}

/// Dev.to at `url`, id `devto`.
pub fn devto(url: impl Into<String>) -> Source {
    source("devto", "devto").url(url)
}

impl Source {
    pub fn url(self, url: impl Into<String>) -> Self {
        self.key("url", url.into())
    }

    /// The display name.
    pub fn name(self, name: &str) -> Self {
        self.key("name", name)
    }

    /// This source's poll interval.
    pub fn poll(self, every: &str) -> Self {
        self.key("poll", every)
    }

    /// Any other key.
    pub fn key(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.keys.set(key, value);
        self
    }
}

/// One `[[topic]]`.
#[derive(Clone, Debug)]
pub struct Topic {
    keys: Table,
    keywords: Table,
    exclude: Vec<String>,
    min_points: Table,
    about: Table,
}

/// A `[[topic]]` titled by its slug, with summaries from feed text and a ten-year window.
pub fn topic(slug: &str) -> Topic {
    let mut keys = Table::default();
    keys.set("slug", slug);
    keys.set("title", slug);
    keys.set("summaries", "feed");
    keys.set("window", "3650d");
    Topic {
        keys,
        keywords: Table::default(),
        exclude: Vec::new(),
        min_points: Table::default(),
        about: Table::default(),
    }
}

impl Topic {
    pub fn title(self, title: &str) -> Self {
        self.key("title", title)
    }

    pub fn description(self, text: &str) -> Self {
        self.key("description", text)
    }

    /// Only these sources (by id); without it, every source.
    pub fn sources(self, ids: &[&str]) -> Self {
        self.key("sources", ids)
    }

    pub fn window(self, window: &str) -> Self {
        self.key("window", window)
    }

    /// "points", "recent" or "hot".
    pub fn sort(self, sort: &str) -> Self {
        self.key("sort", sort)
    }

    pub fn limit(self, limit: i64) -> Self {
        self.key("limit", limit)
    }

    pub fn min_relevance(self, at_least: i64) -> Self {
        self.key("min_relevance", at_least)
    }

    pub fn min_comments(self, at_least: i64) -> Self {
        self.key("min_comments", at_least)
    }

    /// No `summaries` key: the daemon's default, summaries from the linked articles.
    pub fn article_summaries(mut self) -> Self {
        self.keys.remove("summaries");
        self
    }

    /// "full" carries the sanitized source HTML.
    pub fn content(self, mode: &str) -> Self {
        self.key("content", mode)
    }

    /// `[topic.keywords]`: term and weight.
    pub fn keywords(mut self, weights: &[(&str, i64)]) -> Self {
        for (term, weight) in weights {
            self.keywords.set(term, *weight);
        }
        self
    }

    /// `[topic.exclude] terms`.
    pub fn exclude(mut self, terms: &[&str]) -> Self {
        self.exclude.extend(terms.iter().map(|t| t.to_string()));
        self
    }

    /// `[topic.min_points]`: site and threshold.
    pub fn min_points(mut self, per_site: &[(&str, i64)]) -> Self {
        for (site, points) in per_site {
            self.min_points.set(site, *points);
        }
        self
    }

    /// Any other key.
    pub fn key(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.keys.set(key, value);
        self
    }

    /// A `[topic.about]` key: `phrases`, `examples`, `threshold`, `weight`.
    pub fn about(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.about.set(key, value);
        self
    }

    fn write(&self, out: &mut String) {
        out.push_str("[[topic]]\n");
        self.keys.write(out);
        if !self.keywords.is_empty() {
            out.push_str("[topic.keywords]\n");
            self.keywords.write(out);
        }
        if !self.exclude.is_empty() {
            out.push_str("[topic.exclude]\n");
            let terms: Vec<&str> = self.exclude.iter().map(String::as_str).collect();
            Table(vec![("terms".into(), Value::from(&terms[..]))]).write(out);
        }
        if !self.min_points.is_empty() {
            out.push_str("[topic.min_points]\n");
            self.min_points.write(out);
        }
        if !self.about.is_empty() {
            out.push_str("[topic.about]\n");
            self.about.write(out);
        }
        out.push('\n');
    }
}

#[test]
fn builders_write_the_toml_they_describe() {
    let text = config()
        .server("header_timeout", "1s")
        .poll("10m")
        .source(hn("http://127.0.0.1:1/hn").poll("5m"))
        .source(feed("blog", "http://127.0.0.1:1/b.rss").name("A \"quoted\" blog"))
        .topic(
            topic("ds")
                .title("Distributed Systems")
                .sources(&["hn"])
                .keywords(&[("raft", 3), ("CAP theorem", 2)])
                .exclude(&["crypto airdrop"])
                .min_points(&[("hackernews", 100)]),
        )
        .topic(topic("plain").article_summaries().limit(4))
        .on_port(8080)
        .to_toml();
    assert_eq!(
        text,
        r#"[server]
listen = "127.0.0.1:8080"
base_url = "http://127.0.0.1:8080"
data_dir = "data"
header_timeout = "1s"

[defaults]
poll = "10m"

[[source]]
id = "hn"
kind = "hackernews"
url = "http://127.0.0.1:1/hn"
poll = "5m"

[[source]]
id = "blog"
kind = "feed"
url = "http://127.0.0.1:1/b.rss"
name = "A \"quoted\" blog"

[[topic]]
slug = "ds"
title = "Distributed Systems"
summaries = "feed"
window = "3650d"
sources = ["hn"]
[topic.keywords]
raft = 3
"CAP theorem" = 2
[topic.exclude]
terms = ["crypto airdrop"]
[topic.min_points]
hackernews = 100

[[topic]]
slug = "plain"
title = "plain"
window = "3650d"
limit = 4

"#
    );
    // And the daemon reads it as meant.
    let parsed = super::lib_api::Config::parse(std::path::Path::new("feeds.toml"), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.sources.len(), 2);
    assert_eq!(parsed.topics.len(), 2);
}
