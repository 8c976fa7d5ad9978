//! The feeds.toml schema as written, read leniently from the parsed document
//! (`toml::de::DeTable`, which keeps the span of every key and value): an unknown key or a
//! value of the wrong type is one problem with its place, and the rest of the file is still
//! read, so validation reports every problem in one pass.

use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;

/// A problem found while reading the schema: an unknown key, a missing one, a wrong type.
#[derive(Debug)]
pub(super) struct Problem {
    pub span: Range<usize>,
    pub key: Option<String>,
    pub message: String,
}

#[derive(Debug, Default)]
pub(super) struct RawConfig {
    pub server: RawServer,
    pub defaults: RawDefaults,
    pub sources: Vec<Spanned<RawSource>>,
    pub topics: Vec<Spanned<RawTopic>>,
    pub push: RawPush,
    pub store: RawStore,
    pub webhooks: Vec<Spanned<RawWebhook>>,
    /// `[llm]`, when present (its span: errors about the table as a whole point there).
    pub llm: Option<Spanned<RawLlm>>,
    /// Ids of `[[source]]` tables too broken to read (e.g. without `kind`): topics naming
    /// them are not told the source does not exist.
    pub unreadable_source_ids: Vec<String>,
}

#[derive(Debug, Default)]
pub(super) struct RawServer {
    pub listen: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    pub data_dir: Option<Spanned<String>>,
    pub header_timeout: Option<Spanned<String>>,
    pub max_connections: Option<Spanned<i64>>,
    pub cache_bytes: Option<Spanned<RawSize>>,
    pub send_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub(super) struct RawDefaults {
    pub poll: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_body: Option<Spanned<RawSize>>,
    pub user_agent: Option<Spanned<String>>,
    pub summary_words: Option<Spanned<i64>>,
    pub max_entries: Option<Spanned<i64>>,
    pub allow_private_networks: Option<Spanned<bool>>,
    pub model_dir: Option<Spanned<String>>,
}

/// `[push]`: WebSub hubs to ping.
#[derive(Debug, Default)]
pub(super) struct RawPush {
    pub hubs: Option<Spanned<Vec<Spanned<String>>>>,
    pub min_interval: Option<Spanned<String>>,
}

/// `[store]`: where stories are kept (sled under `data_dir` unless `url` names PostgreSQL).
#[derive(Debug, Default)]
pub(super) struct RawStore {
    pub url: Option<Spanned<String>>,
    pub node_id: Option<Spanned<String>>,
    pub connections: Option<Spanned<i64>>,
    pub lease: Option<Spanned<String>>,
}

/// One `[[webhook]]`.
#[derive(Debug, Default)]
pub(super) struct RawWebhook {
    pub url: Option<Spanned<String>>,
    pub topics: Option<Spanned<Vec<Spanned<String>>>>,
    pub secret_env: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub retry_for: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub(super) struct RawLlm {
    pub endpoint: Option<Spanned<String>>,
    pub model: Option<Spanned<String>>,
    pub api_key_env: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
    pub max_per_hour: Option<Spanned<i64>>,
    pub max_input_words: Option<Spanned<i64>>,
    pub prompt: Option<Spanned<String>>,
}

/// A size is written as "15MiB" or as a plain number of bytes.
#[derive(Debug)]
pub(super) enum RawSize {
    Bytes(i64),
    Text(String),
}

#[derive(Debug)]
pub(super) struct RawSource {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub url: Option<Spanned<String>>,
    pub poll: Option<Spanned<String>>,
    /// Display name override (feeds default to their id).
    pub name: Option<Spanned<String>>,
    // Site-specific keys; validation rejects them on kinds they do not apply to.
    pub subreddit: Option<Spanned<String>>,
    pub listing: Option<Spanned<String>>,
    pub period: Option<Spanned<String>>,
    pub include_nsfw: Option<Spanned<bool>>,
    pub tag: Option<Spanned<String>>,
}

#[derive(Debug)]
pub(super) struct RawTopic {
    pub slug: Spanned<String>,
    pub title: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub window: Option<Spanned<String>>,
    pub limit: Option<Spanned<i64>>,
    pub sort: Option<Spanned<String>>,
    pub min_relevance: Option<Spanned<RawNumber>>,
    pub keywords: BTreeMap<String, Spanned<RawNumber>>,
    pub exclude: RawExclude,
    pub domains: RawDomains,
    pub min_points: Option<Spanned<RawMinPoints>>,
    pub min_comments: Option<Spanned<i64>>,
    pub summaries: Option<Spanned<String>>,
    pub min_points_for_llm: Option<Spanned<i64>>,
    pub content: Option<Spanned<String>>,
    pub about: Option<Spanned<RawAbout>>,
}

/// `[topic.about]`: the semantic rule as written.
#[derive(Debug, Default)]
pub(super) struct RawAbout {
    pub phrases: Option<Spanned<Vec<Spanned<String>>>>,
    pub examples: Option<Spanned<Vec<Spanned<String>>>>,
    pub threshold: Option<Spanned<RawNumber>>,
    pub weight: Option<Spanned<RawNumber>>,
    pub unlike: Option<Spanned<Vec<Spanned<String>>>>,
    pub unlike_margin: Option<Spanned<RawNumber>>,
}

#[derive(Debug, Default)]
pub(super) struct RawExclude {
    pub terms: Vec<Spanned<String>>,
}

/// `[topic.domains]`: `include` and `exclude` lists of domains.
#[derive(Debug, Default)]
pub(super) struct RawDomains {
    pub include: Vec<Spanned<String>>,
    pub exclude: Vec<Spanned<String>>,
}

/// Weights and thresholds may be integers or decimals.
#[derive(Debug, Clone, Copy)]
pub(super) enum RawNumber {
    Int(i64),
    Float(f64),
}

impl RawNumber {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            RawNumber::Int(i) => i as f64,
            RawNumber::Float(f) => f,
        }
    }
}

/// `min_points = 50` (every site) or `[topic.min_points] hackernews = 100`.
#[derive(Debug)]
pub(super) enum RawMinPoints {
    All(i64),
    PerSite(BTreeMap<String, i64>),
}

// The keys of each table, in the order "expected one of" lists them.
const TOP_KEYS: &[&str] = &[
    "server", "defaults", "source", "topic", "push", "webhook", "llm", "store",
];
const STORE_KEYS: &[&str] = &["url", "node_id", "connections", "lease"];
const WEBHOOK_KEYS: &[&str] = &["url", "topics", "secret_env", "format", "retry_for"];
const PUSH_KEYS: &[&str] = &["hubs", "min_interval"];
const LLM_KEYS: &[&str] = &[
    "endpoint",
    "model",
    "api_key_env",
    "timeout",
    "concurrency",
    "max_per_hour",
    "max_input_words",
    "prompt",
];
const SERVER_KEYS: &[&str] = &[
    "listen",
    "base_url",
    "data_dir",
    "header_timeout",
    "max_connections",
    "cache_bytes",
    "send_timeout",
];
const DEFAULTS_KEYS: &[&str] = &[
    "poll",
    "timeout",
    "max_body",
    "user_agent",
    "summary_words",
    "max_entries",
    "allow_private_networks",
    "model_dir",
];
const SOURCE_KEYS: &[&str] = &[
    "id",
    "kind",
    "url",
    "poll",
    "name",
    "subreddit",
    "listing",
    "period",
    "include_nsfw",
    "tag",
];
const TOPIC_KEYS: &[&str] = &[
    "slug",
    "title",
    "description",
    "sources",
    "window",
    "limit",
    "sort",
    "min_relevance",
    "keywords",
    "exclude",
    "domains",
    "min_points",
    "min_comments",
    "summaries",
    "min_points_for_llm",
    "content",
    "about",
];
const ABOUT_KEYS: &[&str] = &[
    "phrases",
    "examples",
    "unlike",
    "threshold",
    "weight",
    "unlike_margin",
];
const EXCLUDE_KEYS: &[&str] = &["terms"];
const DOMAINS_KEYS: &[&str] = &["include", "exclude"];

/// The strings of a list value (none when it is not a list of strings; the reader said so).
fn r_strings(r: &mut Reader, value: &Spanned<DeValue>, key: &str) -> Vec<Spanned<String>> {
    r.strings(value, key)
        .map(Spanned::into_inner)
        .unwrap_or_default()
}

/// Reads `text`; `Err` holds the syntax errors (nothing else can be checked then), `Ok` the
/// schema as far as it could be read and the problems found on the way.
pub(super) fn read(text: &str) -> Result<(RawConfig, Vec<Problem>), Vec<Problem>> {
    let (document, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| Problem {
                span: e.span().unwrap_or(0..0),
                key: None,
                message: e.message().trim().to_string(),
            })
            .collect());
    }
    let mut r = Reader::default();
    let mut raw = RawConfig::default();
    for (k, v) in document.get_ref() {
        match k.get_ref().as_ref() {
            "server" => {
                if let Some(t) = r.table(v, "server") {
                    raw.server = read_server(&mut r, t);
                }
            }
            "defaults" => {
                if let Some(t) = r.table(v, "defaults") {
                    raw.defaults = read_defaults(&mut r, t);
                }
            }
            "source" => {
                for (i, item) in r.tables(v, "source").into_iter().enumerate() {
                    read_source(&mut r, &mut raw, item, i);
                }
            }
            "topic" => {
                for (i, item) in r.tables(v, "topic").into_iter().enumerate() {
                    if let Some(topic) = read_topic(&mut r, item, i) {
                        raw.topics.push(topic);
                    }
                }
            }
            "push" => {
                if let Some(t) = r.table(v, "push") {
                    raw.push = read_push(&mut r, t);
                }
            }
            "webhook" => {
                for (i, item) in r.tables(v, "webhook").into_iter().enumerate() {
                    if let Some(hook) = read_webhook(&mut r, item, i) {
                        raw.webhooks.push(hook);
                    }
                }
            }
            "store" => {
                if let Some(t) = r.table(v, "store") {
                    raw.store = read_store(&mut r, t);
                }
            }
            "llm" => {
                if let Some(t) = r.table(v, "llm") {
                    raw.llm = Some(Spanned::new(v.span(), read_llm(&mut r, t)));
                }
            }
            _ => r.unknown(k, TOP_KEYS),
        }
    }
    Ok((raw, r.problems))
}

fn read_llm(r: &mut Reader, table: &DeTable) -> RawLlm {
    let mut out = RawLlm::default();
    for (k, v) in table {
        let key = format!("llm.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "endpoint" => out.endpoint = r.string(v, &key),
            "model" => out.model = r.string(v, &key),
            "api_key_env" => out.api_key_env = r.string(v, &key),
            "timeout" => out.timeout = r.string(v, &key),
            "concurrency" => out.concurrency = r.integer(v, &key),
            "max_per_hour" => out.max_per_hour = r.integer(v, &key),
            "max_input_words" => out.max_input_words = r.integer(v, &key),
            "prompt" => out.prompt = r.string(v, &key),
            _ => r.unknown(k, LLM_KEYS),
        }
    }
    out
}

fn read_server(r: &mut Reader, table: &DeTable) -> RawServer {
    let mut out = RawServer::default();
    for (k, v) in table {
        let key = format!("server.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "listen" => out.listen = r.string(v, &key),
            "base_url" => out.base_url = r.string(v, &key),
            "data_dir" => out.data_dir = r.string(v, &key),
            "header_timeout" => out.header_timeout = r.string(v, &key),
            "max_connections" => out.max_connections = r.integer(v, &key),
            "cache_bytes" => out.cache_bytes = r.size(v, &key),
            "send_timeout" => out.send_timeout = r.string(v, &key),
            _ => r.unknown(k, SERVER_KEYS),
        }
    }
    out
}

fn read_defaults(r: &mut Reader, table: &DeTable) -> RawDefaults {
    let mut out = RawDefaults::default();
    for (k, v) in table {
        let key = format!("defaults.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "poll" => out.poll = r.string(v, &key),
            "timeout" => out.timeout = r.string(v, &key),
            "max_body" => out.max_body = r.size(v, &key),
            "user_agent" => out.user_agent = r.string(v, &key),
            "summary_words" => out.summary_words = r.integer(v, &key),
            "max_entries" => out.max_entries = r.integer(v, &key),
            "allow_private_networks" => out.allow_private_networks = r.boolean(v, &key),
            "model_dir" => out.model_dir = r.string(v, &key),
            _ => r.unknown(k, DEFAULTS_KEYS),
        }
    }
    out
}

fn read_store(r: &mut Reader, table: &DeTable) -> RawStore {
    let mut out = RawStore::default();
    for (k, v) in table {
        let key = format!("store.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "url" => out.url = r.string(v, &key),
            "node_id" => out.node_id = r.string(v, &key),
            "connections" => out.connections = r.integer(v, &key),
            "lease" => out.lease = r.string(v, &key),
            _ => r.unknown(k, STORE_KEYS),
        }
    }
    out
}

fn read_push(r: &mut Reader, table: &DeTable) -> RawPush {
    let mut out = RawPush::default();
    for (k, v) in table {
        let key = format!("push.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "hubs" => out.hubs = r.strings(v, &key),
            "min_interval" => out.min_interval = r.string(v, &key),
            _ => r.unknown(k, PUSH_KEYS),
        }
    }
    out
}

fn read_webhook(r: &mut Reader, item: &Spanned<DeValue>, i: usize) -> Option<Spanned<RawWebhook>> {
    let path = format!("webhook[{i}]");
    let table = r.table(item, &path)?;
    let mut out = RawWebhook::default();
    for (k, v) in table {
        let key = format!("{path}.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "url" => out.url = r.string(v, &key),
            "topics" => out.topics = r.strings(v, &key),
            "secret_env" => out.secret_env = r.string(v, &key),
            "format" => out.format = r.string(v, &key),
            "retry_for" => out.retry_for = r.string(v, &key),
            _ => r.unknown(k, WEBHOOK_KEYS),
        }
    }
    out.url = r.required(out.url, table, item, &path, "url");
    out.url.as_ref()?;
    Some(Spanned::new(item.span(), out))
}

fn read_source(r: &mut Reader, raw: &mut RawConfig, item: &Spanned<DeValue>, i: usize) {
    let Some(table) = r.table(item, &format!("source[{i}]")) else {
        return;
    };
    let (mut id, mut kind) = (None, None);
    let (mut url, mut poll, mut name, mut subreddit) = (None, None, None, None);
    let (mut listing, mut period, mut include_nsfw, mut tag) = (None, None, None, None);
    for (k, v) in table {
        let key = format!("source[{i}].{}", k.get_ref());
        match k.get_ref().as_ref() {
            "id" => id = r.string(v, &key),
            "kind" => kind = r.string(v, &key),
            "url" => url = r.string(v, &key),
            "poll" => poll = r.string(v, &key),
            "name" => name = r.string(v, &key),
            "subreddit" => subreddit = r.string(v, &key),
            "listing" => listing = r.string(v, &key),
            "period" => period = r.string(v, &key),
            "include_nsfw" => include_nsfw = r.boolean(v, &key),
            "tag" => tag = r.string(v, &key),
            _ => r.unknown(k, SOURCE_KEYS),
        }
    }
    let id = r.required(id, table, item, &format!("source[{i}]"), "id");
    let kind = r.required(kind, table, item, &format!("source[{i}]"), "kind");
    match (id, kind) {
        (Some(id), Some(kind)) => raw.sources.push(Spanned::new(
            item.span(),
            RawSource {
                id,
                kind,
                url,
                poll,
                name,
                subreddit,
                listing,
                period,
                include_nsfw,
                tag,
            },
        )),
        (Some(id), None) => raw.unreadable_source_ids.push(id.into_inner()),
        _ => {}
    }
}

fn read_topic(r: &mut Reader, item: &Spanned<DeValue>, i: usize) -> Option<Spanned<RawTopic>> {
    let path = format!("topic[{i}]");
    let table = r.table(item, &path)?;
    let (mut slug, mut title, mut description, mut sources) = (None, None, None, None);
    let (mut window, mut limit, mut sort, mut min_relevance) = (None, None, None, None);
    let (mut min_points, mut min_comments, mut summaries, mut content) = (None, None, None, None);
    let mut min_points_for_llm = None;
    let mut keywords = BTreeMap::new();
    let mut exclude = RawExclude::default();
    let mut about = None;
    let mut domains = RawDomains::default();
    for (k, v) in table {
        let key = format!("{path}.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "slug" => slug = r.string(v, &key),
            "title" => title = r.string(v, &key),
            "description" => description = r.string(v, &key),
            "sources" => sources = r.strings(v, &key),
            "window" => window = r.string(v, &key),
            "limit" => limit = r.integer(v, &key),
            "sort" => sort = r.string(v, &key),
            "min_relevance" => min_relevance = r.number(v, &key),
            "keywords" => {
                for (term, weight) in r.table(v, &key).into_iter().flatten() {
                    let term_key = format!("{key}.{}", key_part(term.get_ref()));
                    if let Some(w) = r.number(weight, &term_key) {
                        keywords.insert(term.get_ref().to_string(), w);
                    }
                }
            }
            "exclude" => {
                for (ek, ev) in r.table(v, &key).into_iter().flatten() {
                    match ek.get_ref().as_ref() {
                        "terms" => {
                            let terms = r.strings(ev, &format!("{key}.terms"));
                            exclude.terms = terms.map(Spanned::into_inner).unwrap_or_default();
                        }
                        _ => r.unknown(ek, EXCLUDE_KEYS),
                    }
                }
            }
            "domains" => {
                for (dk, dv) in r.table(v, &key).into_iter().flatten() {
                    let list_key = format!("{key}.{}", dk.get_ref());
                    match dk.get_ref().as_ref() {
                        "include" => domains.include = r_strings(r, dv, &list_key),
                        "exclude" => domains.exclude = r_strings(r, dv, &list_key),
                        _ => r.unknown(dk, DOMAINS_KEYS),
                    }
                }
            }
            "min_points" => min_points = r.min_points(v, &key),
            "min_comments" => min_comments = r.integer(v, &key),
            "summaries" => summaries = r.string(v, &key),
            "min_points_for_llm" => min_points_for_llm = r.integer(v, &key),
            "content" => content = r.string(v, &key),
            "about" => about = read_about(r, v, &key),
            _ => r.unknown(k, TOPIC_KEYS),
        }
    }
    let slug = r.required(slug, table, item, &path, "slug");
    let title = r.required(title, table, item, &path, "title");
    Some(Spanned::new(
        item.span(),
        RawTopic {
            slug: slug?,
            title: title?,
            description,
            sources,
            window,
            limit,
            sort,
            min_relevance,
            keywords,
            exclude,
            domains,
            min_points,
            min_comments,
            summaries,
            min_points_for_llm,
            content,
            about,
        },
    ))
}

fn read_about(r: &mut Reader, v: &Spanned<DeValue>, key: &str) -> Option<Spanned<RawAbout>> {
    let table = r.table(v, key)?;
    let mut out = RawAbout::default();
    for (k, value) in table {
        let item_key = format!("{key}.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "phrases" => out.phrases = r.strings(value, &item_key),
            "examples" => out.examples = r.strings(value, &item_key),
            "threshold" => out.threshold = r.number(value, &item_key),
            "weight" => out.weight = r.number(value, &item_key),
            "unlike" => out.unlike = r.strings(value, &item_key),
            "unlike_margin" => out.unlike_margin = r.number(value, &item_key),
            _ => r.unknown(k, ABOUT_KEYS),
        }
    }
    Some(Spanned::new(v.span(), out))
}

/// A key as it can be written after a dot: bare when it can be, else quoted.
fn key_part(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// "a string", "an integer": what a value is, for "expected X, found Y".
fn found(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "a boolean (true/false)",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    fn problem(&mut self, span: Range<usize>, key: Option<&str>, message: String) {
        self.problems.push(Problem {
            span,
            key: key.map(str::to_string),
            message,
        });
    }

    fn wrong(&mut self, value: &Spanned<DeValue>, key: &str, expected: &str) {
        self.problem(
            value.span(),
            Some(key),
            format!("expected {expected}, found {}", found(value.get_ref())),
        );
    }

    /// "unknown key `x`, did you mean `y`? (expected one of `a`, `b`)".
    fn unknown(&mut self, key: &Spanned<DeString>, expected: &[&str]) {
        let list = match expected {
            [one] => format!("expected `{one}`"),
            _ => format!(
                "expected one of {}",
                expected
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let message = format!(
            "unknown key `{}`{} ({list})",
            key.get_ref(),
            super::suggest::hint(key.get_ref(), expected.iter().copied())
        );
        self.problem(key.span(), None, message);
    }

    /// A required key: reported at its table when absent (a wrong type was reported already).
    fn required<T>(
        &mut self,
        value: Option<T>,
        table: &DeTable,
        item: &Spanned<DeValue>,
        path: &str,
        name: &str,
    ) -> Option<T> {
        if value.is_none() && !table.contains_key(name) {
            self.problem(
                item.span(),
                Some(path),
                format!("missing key `{name}`, which every such table needs"),
            );
        }
        value
    }

    fn table<'a, 'i>(
        &mut self,
        value: &'a Spanned<DeValue<'i>>,
        key: &str,
    ) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong(value, key, "a table");
                None
            }
        }
    }

    /// The tables of an array of tables (`[[source]]`).
    fn tables<'a, 'i>(
        &mut self,
        value: &'a Spanned<DeValue<'i>>,
        key: &str,
    ) -> Vec<&'a Spanned<DeValue<'i>>> {
        match value.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            _ => {
                self.wrong(
                    value,
                    key,
                    &format!("an array of tables (written [[{key}]])"),
                );
                Vec::new()
            }
        }
    }

    fn string(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            _ => {
                self.wrong(value, key, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<bool>> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(value.span(), *b)),
            _ => {
                self.wrong(value, key, "true or false");
                None
            }
        }
    }

    fn integer(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<i64>> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Spanned::new(value.span(), n)),
                Err(_) => {
                    self.problem(value.span(), Some(key), format!("{i} is too large"));
                    None
                }
            },
            _ => {
                self.wrong(value, key, "an integer");
                None
            }
        }
    }

    fn number(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<RawNumber>> {
        match value.get_ref() {
            DeValue::Integer(_) => self
                .integer(value, key)
                .map(|n| Spanned::new(n.span(), RawNumber::Int(*n.get_ref()))),
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) => Some(Spanned::new(value.span(), RawNumber::Float(x))),
                Err(_) => {
                    self.problem(value.span(), Some(key), format!("{f} is not a number"));
                    None
                }
            },
            _ => {
                self.wrong(value, key, "a number");
                None
            }
        }
    }

    fn size(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<RawSize>> {
        match value.get_ref() {
            DeValue::Integer(_) => self
                .integer(value, key)
                .map(|n| Spanned::new(n.span(), RawSize::Bytes(*n.get_ref()))),
            DeValue::String(s) => Some(Spanned::new(value.span(), RawSize::Text(s.to_string()))),
            _ => {
                self.wrong(value, key, "a size such as \"15MiB\" or a number of bytes");
                None
            }
        }
    }

    /// An array of strings; wrong elements are reported one by one and left out.
    fn strings(
        &mut self,
        value: &Spanned<DeValue>,
        key: &str,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong(value, key, "a list of strings");
            return None;
        };
        let list = items
            .iter()
            .filter_map(|item| self.string(item, key))
            .collect();
        Some(Spanned::new(value.span(), list))
    }

    fn min_points(&mut self, value: &Spanned<DeValue>, key: &str) -> Option<Spanned<RawMinPoints>> {
        match value.get_ref() {
            DeValue::Integer(_) => self
                .integer(value, key)
                .map(|n| Spanned::new(n.span(), RawMinPoints::All(*n.get_ref()))),
            DeValue::Table(t) => {
                let mut per_site = BTreeMap::new();
                for (site, n) in t {
                    let site_key = format!("{key}.{}", key_part(site.get_ref()));
                    if let Some(n) = self.integer(n, &site_key) {
                        per_site.insert(site.get_ref().to_string(), *n.get_ref());
                    }
                }
                Some(Spanned::new(value.span(), RawMinPoints::PerSite(per_site)))
            }
            _ => {
                self.wrong(
                    value,
                    key,
                    "an integer or a table of integers per site (hackernews = 100)",
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(String, Option<String>, String)> {
        let problems = match read(text) {
            Ok((_, p)) => p,
            Err(p) => p,
        };
        problems
            .into_iter()
            .map(|p| (text[p.span.clone()].to_string(), p.key, p.message))
            .collect()
    }

    #[test]
    fn wrong_types_are_problems_and_reading_goes_on() {
        let found = problems(
            "[server]\nlisten = 8080\nmax_connections = \"many\"\n\n[defaults]\nallow_private_networks = \"yes\"\nmax_body = true\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nlimit = 2.5\nsources = [\"a\", 3]\n[topic.keywords]\n\"raft\" = \"three\"\n\"CAP theorem\" = []\n",
        );
        let expect = |span: &str, key: &str, message: &str| {
            (span.to_string(), Some(key.to_string()), message.to_string())
        };
        for wanted in [
            expect("8080", "server.listen", "expected a string, found an integer"),
            expect(
                "\"many\"",
                "server.max_connections",
                "expected an integer, found a string",
            ),
            expect(
                "\"yes\"",
                "defaults.allow_private_networks",
                "expected true or false, found a string",
            ),
            expect(
                "true",
                "defaults.max_body",
                "expected a size such as \"15MiB\" or a number of bytes, found a boolean (true/false)",
            ),
            expect("2.5", "topic[0].limit", "expected an integer, found a decimal number"),
            expect("3", "topic[0].sources", "expected a string, found an integer"),
            expect(
                "\"three\"",
                "topic[0].keywords.raft",
                "expected a number, found a string",
            ),
            expect(
                "[]",
                "topic[0].keywords.\"CAP theorem\"",
                "expected a number, found an array",
            ),
        ] {
            assert!(found.contains(&wanted), "{wanted:?} not in {found:#?}");
        }
        assert_eq!(found.len(), 8, "{found:#?}");
    }

    #[test]
    fn unknown_keys_are_all_reported_with_a_hint() {
        let found = problems(
            "colour = 1\n[server]\nlisten_on = \"x\"\n[defaults]\npoll = \"15m\"\nuser_agnet = \"x\"\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nmin_point = 3\n[topic.exclude]\nterm = []\n",
        );
        let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(messages.contains(
            &"unknown key `colour` (expected one of `server`, `defaults`, `source`, `topic`, `push`, `webhook`, `llm`, `store`)"
        ));
        assert!(messages
            .iter()
            .any(|m| m.starts_with("unknown key `user_agnet`, did you mean `user_agent`?")));
        assert!(messages
            .iter()
            .any(|m| m.starts_with("unknown key `min_point`, did you mean `min_points`? (expected one of `slug`, `title`, ")));
        assert!(messages.contains(&"unknown key `term`, did you mean `terms`? (expected `terms`)"));
        assert!(found.iter().all(|(span, key, _)| key.is_none()
            && ["colour", "listen_on", "user_agnet", "min_point", "term"]
                .contains(&span.as_str())));
    }

    #[test]
    fn missing_required_keys_and_misshapen_tables() {
        let found = problems("server = 1\n[[source]]\nid = \"a\"\n\n[[topic]]\ntitle = \"T\"\n");
        let messages: Vec<String> = found
            .iter()
            .map(|(_, k, m)| format!("{}: {m}", k.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            messages,
            [
                "server: expected a table, found an integer",
                "source[0]: missing key `kind`, which every such table needs",
                "topic[0]: missing key `slug`, which every such table needs",
            ]
        );
        let (raw, _) = read("[[source]]\nid = \"a\"\n").unwrap();
        assert_eq!(raw.unreadable_source_ids, ["a"]);
        let found = problems("[source]\nid = \"a\"\n");
        assert_eq!(
            found[0].2,
            "expected an array of tables (written [[source]]), found a table"
        );
    }

    #[test]
    fn syntax_errors_stop_the_reading() {
        assert!(read("[server\nlisten = 1\n").is_err());
        assert!(read("a = \n").is_err());
    }
}
