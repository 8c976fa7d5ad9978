//! Turns the raw schema into a typed `Config`, collecting every problem with its place.

use crate::config::error::{ConfigError, ConfigErrors};
use crate::config::raw::{self, RawNumber, RawSize};
use crate::config::units::{format_duration, format_size, parse_duration, parse_size};
mod about;
mod llm;
mod push;
mod source;
pub(crate) mod store;
mod topic;
mod webhook;

use crate::config::*;
use push::validate_push;
use reqwest::header::HeaderValue;
use source::validate_source;
use std::collections::HashSet;
use std::ops::Range;
use store::validate_store;
use toml::Spanned;
use topic::validate_topic;
use webhook::validate_webhook;

pub(super) struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let e = ConfigError::at(self.path, self.text, Some(span), Some(key.into()), message);
        self.errors.push(e);
    }

    /// A duration longer than zero and at most `MAX_DURATION` (longer ones overflow date
    /// arithmetic later).
    pub(super) fn duration(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Duration {
        self.duration_within(value, key, default, Duration::ZERO, MAX_DURATION)
    }

    /// A duration longer than zero, at least `min` and at most `max`.
    pub(super) fn duration_within(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
        min: Duration,
        max: Duration,
    ) -> Duration {
        let Some(v) = value else { return default };
        match parse_duration(v.get_ref()) {
            Ok(d) if d.is_zero() => {
                self.error(v.span(), key, "must be longer than zero");
                default
            }
            Ok(d) if d < min => {
                self.error(
                    v.span(),
                    key,
                    format!(
                        "{:?} is too short (at least {})",
                        v.get_ref(),
                        format_duration(min)
                    ),
                );
                default
            }
            Ok(d) if d > max => {
                self.error(
                    v.span(),
                    key,
                    format!(
                        "{:?} is too long (at most {})",
                        v.get_ref(),
                        format_duration(max)
                    ),
                );
                default
            }
            Ok(d) => d,
            Err(msg) => {
                self.error(v.span(), key, msg);
                default
            }
        }
    }

    /// A byte size (a number of bytes or "15MiB") within `min..=max`.
    pub(super) fn size(
        &mut self,
        value: &Option<Spanned<RawSize>>,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> u64 {
        let Some(v) = value else { return default };
        let parsed = match v.get_ref() {
            RawSize::Bytes(n) if *n > 0 => Ok(*n as u64),
            RawSize::Bytes(n) => Err(format!("{n} must be a positive number of bytes")),
            RawSize::Text(t) => parse_size(t),
        };
        let shown = || match v.get_ref() {
            RawSize::Bytes(n) => n.to_string(),
            RawSize::Text(t) => format!("{t:?}"),
        };
        match parsed {
            Ok(n) if n < min => {
                let msg = format!("{} is too small (at least {})", shown(), format_size(min));
                self.error(v.span(), key, msg);
                default
            }
            Ok(n) if n > max => {
                let msg = format!("{} is too large (at most {})", shown(), format_size(max));
                self.error(v.span(), key, msg);
                default
            }
            Ok(n) => n,
            Err(msg) => {
                self.error(v.span(), key, msg);
                default
            }
        }
    }

    pub(super) fn poll(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Duration {
        let poll = self.duration(value, key, default);
        if let (Some(v), true) = (value, poll < MIN_POLL) {
            self.error(
                v.span(),
                key,
                format!(
                    "{:?} is too frequent: the shortest poll interval is {}s",
                    v.get_ref(),
                    MIN_POLL.as_secs()
                ),
            );
        }
        poll
    }

    pub(super) fn http_url(&mut self, value: &Spanned<String>, key: &str) -> Option<Url> {
        match Url::parse(value.get_ref().trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            Ok(_) => {
                self.error(
                    value.span(),
                    key,
                    format!("{:?} is not an http(s) URL", value.get_ref()),
                );
                None
            }
            Err(e) => {
                self.error(
                    value.span(),
                    key,
                    format!("invalid URL {:?}: {e}", value.get_ref()),
                );
                None
            }
        }
    }

    /// A finite number of at least 0 (a weight or a relevance), else an error at its place.
    pub(super) fn non_negative(&mut self, v: &Spanned<RawNumber>, key: &str) -> Option<f64> {
        let n = v.get_ref().as_f64();
        if n.is_finite() && n >= 0.0 {
            Some(n)
        } else {
            self.error(v.span(), key, format!("{n} must be a number of at least 0"));
            None
        }
    }

    pub(super) fn count(
        &mut self,
        value: &Option<Spanned<i64>>,
        key: &str,
        range: Range<i64>,
        default: i64,
    ) -> i64 {
        let Some(v) = value else { return default };
        let n = *v.get_ref();
        if range.contains(&n) {
            n
        } else {
            self.error(
                v.span(),
                key,
                format!(
                    "{n} is out of range (expected {} to {})",
                    range.start,
                    range.end - 1
                ),
            );
            default
        }
    }

    pub(super) fn id_like(&mut self, value: &Spanned<String>, key: &str) -> bool {
        let v = value.get_ref();
        let ok = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            self.error(
                value.span(),
                key,
                format!("{v:?} must be non-empty and use only a-z, 0-9 and -"),
            );
        }
        ok
    }
}

pub(super) fn validate(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let problem = |p: raw::Problem| ConfigError::at(path, text, Some(p.span), p.key, p.message);
    let (raw, problems) = raw::read(text)
        .map_err(|syntax| ConfigErrors(syntax.into_iter().map(problem).collect()))?;
    let mut c = Checker {
        path,
        text,
        errors: problems.into_iter().map(problem).collect(),
    };

    let listen = match &raw.server.listen {
        Some(v) => match v.get_ref().parse::<SocketAddr>() {
            Ok(addr) if addr.port() == 0 => {
                c.error(
                    v.span(),
                    "server.listen",
                    format!(
                        "{:?} has port 0 (a random port each start): give a port, e.g. 127.0.0.1:8080",
                        v.get_ref()
                    ),
                );
                default_listen()
            }
            Ok(addr) => addr,
            Err(_) => {
                c.error(
                    v.span(),
                    "server.listen",
                    format!("{:?} is not an address such as 127.0.0.1:8080", v.get_ref()),
                );
                default_listen()
            }
        },
        None => default_listen(),
    };
    let base_url = match &raw.server.base_url {
        Some(v) => c
            .http_url(v, "server.base_url")
            .map(|u| u.as_str().trim_end_matches('/').to_string()),
        None => None,
    }
    .unwrap_or_else(|| format!("http://{listen}"));
    let config_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let data_dir = match &raw.server.data_dir {
        Some(d) if d.get_ref().trim().is_empty() => {
            c.error(
                d.span(),
                "server.data_dir",
                "must not be empty (e.g. \"./data\")",
            );
            "./data".to_string()
        }
        Some(d) => d.get_ref().clone(),
        None => "./data".to_string(),
    };
    let header_timeout = c.duration_within(
        &raw.server.header_timeout,
        "server.header_timeout",
        Duration::from_secs(5),
        Duration::ZERO,
        MAX_TIMEOUT,
    );
    let cache_bytes = c.size(
        &raw.server.cache_bytes,
        "server.cache_bytes",
        DEFAULT_CACHE_BYTES,
        MIN_CACHE_BYTES,
        MAX_CACHE_BYTES,
    );
    let send_timeout = c.duration_within(
        &raw.server.send_timeout,
        "server.send_timeout",
        DEFAULT_SEND_TIMEOUT,
        Duration::from_secs(1),
        MAX_TIMEOUT,
    );
    let max_connections = c.count(
        &raw.server.max_connections,
        "server.max_connections",
        1..1_000_001,
        1024,
    ) as usize;
    let server = ServerConfig {
        header_timeout,
        max_connections,
        cache_bytes,
        send_timeout,
        listen,
        base_url,
        data_dir: config_dir.join(
            Path::new(&data_dir)
                .strip_prefix("./")
                .unwrap_or(Path::new(&data_dir)),
        ),
    };

    let d = &raw.defaults;
    let max_body = c.size(
        &d.max_body,
        "defaults.max_body",
        DEFAULT_MAX_BODY,
        MIN_MAX_BODY,
        MAX_MAX_BODY,
    );
    let user_agent = match &d.user_agent {
        Some(v) if v.get_ref().trim().is_empty() => {
            c.error(
                v.span(),
                "defaults.user_agent",
                "must not be empty: sites block anonymous clients",
            );
            default_user_agent()
        }
        // Sent as a header: a newline or another control character would make every HTTP
        // client fail to build.
        Some(v) if HeaderValue::from_str(v.get_ref().trim()).is_err() => {
            c.error(
                v.span(),
                "defaults.user_agent",
                format!(
                    "{:?} cannot be sent as an HTTP header: it must be one line without control characters",
                    v.get_ref()
                ),
            );
            default_user_agent()
        }
        Some(v) => v.get_ref().trim().to_string(),
        None => default_user_agent(),
    };
    let defaults = Defaults {
        poll: c.poll(&d.poll, "defaults.poll", DEFAULT_POLL),
        timeout: c.duration_within(
            &d.timeout,
            "defaults.timeout",
            DEFAULT_TIMEOUT,
            Duration::ZERO,
            MAX_TIMEOUT,
        ),
        max_body,
        user_agent,
        summary_words: c.count(&d.summary_words, "defaults.summary_words", 10..501, 60) as usize,
        max_entries: c.count(
            &d.max_entries,
            "defaults.max_entries",
            1..MAX_ENTRIES_LIMIT as i64 + 1,
            DEFAULT_MAX_ENTRIES as i64,
        ) as usize,
        allow_private_networks: d
            .allow_private_networks
            .as_ref()
            .is_some_and(|v| *v.get_ref()),
        model_dir: about::model_dir(&mut c, &d.model_dir, &config_dir),
    };

    let mut sources = Vec::new();
    let mut seen_ids: HashSet<String> = raw.unreadable_source_ids.iter().cloned().collect();
    for (i, s) in raw.sources.iter().enumerate() {
        let s = s.get_ref();
        let key = format!("source[{i}]");
        if c.id_like(&s.id, &format!("{key}.id")) && !seen_ids.insert(s.id.get_ref().clone()) {
            c.error(
                s.id.span(),
                format!("{key}.id"),
                format!("duplicate source id {:?}", s.id.get_ref()),
            );
        }
        if let Some(source) = validate_source(&mut c, s, &key, defaults.poll) {
            sources.push(source);
        }
    }

    let llm = raw.llm.as_ref().and_then(|l| llm::validate_llm(&mut c, l));

    let mut topics = Vec::new();
    let mut seen_slugs = HashSet::new();
    for (i, t) in raw.topics.iter().enumerate() {
        let t = t.get_ref();
        let key = format!("topic[{i}]");
        if c.id_like(&t.slug, &format!("{key}.slug"))
            && !seen_slugs.insert(t.slug.get_ref().clone())
        {
            c.error(
                t.slug.span(),
                format!("{key}.slug"),
                format!("duplicate topic slug {:?}", t.slug.get_ref()),
            );
        }
        topics.push(validate_topic(
            &mut c,
            t,
            &key,
            &seen_ids,
            raw.llm.is_some(),
        ));
    }

    let push = validate_push(&mut c, &raw.push);
    let store = validate_store(&mut c, &raw.store);
    let webhooks = raw
        .webhooks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| validate_webhook(&mut c, w, &format!("webhook[{i}]"), &seen_slugs))
        .collect();

    // In file order: problems found reading the schema and in validation interleave.
    c.errors
        .sort_by_key(|e| (e.line.unwrap_or(usize::MAX), e.column.unwrap_or(usize::MAX)));
    if c.errors.is_empty() {
        Ok(Config {
            path: path.to_path_buf(),
            server,
            defaults,
            sources,
            topics,
            push,
            store,
            webhooks,
            llm,
            model_problem: None,
        })
    } else {
        Err(ConfigErrors(c.errors))
    }
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
}

#[cfg(test)]
mod tests;
