//! Turns the raw schema into a typed `Config`, collecting every problem with its place.

use crate::config::error::{ConfigError, ConfigErrors};
use crate::config::raw::{RawConfig, RawSize};
use crate::config::suggest;
use crate::config::units::{parse_duration, parse_size};
mod source;
mod topic;

use crate::config::*;
use source::validate_source;
use std::collections::HashSet;
use std::ops::Range;
use toml::Spanned;
use topic::validate_topic;

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

    pub(super) fn duration(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Duration {
        let Some(v) = value else { return default };
        match parse_duration(v.get_ref()) {
            Ok(d) if d.is_zero() => {
                self.error(v.span(), key, "must be longer than zero");
                default
            }
            Ok(d) => d,
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
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        ConfigErrors(vec![ConfigError::at(
            path,
            text,
            e.span(),
            None,
            suggest::improve_unknown_field(e.message().trim()),
        )])
    })?;
    let mut c = Checker {
        path,
        text,
        errors: Vec::new(),
    };

    let listen = match &raw.server.listen {
        Some(v) => v.get_ref().parse().unwrap_or_else(|_| {
            c.error(
                v.span(),
                "server.listen",
                format!("{:?} is not an address such as 127.0.0.1:8080", v.get_ref()),
            );
            default_listen()
        }),
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
    let data_dir = raw
        .server
        .data_dir
        .as_ref()
        .map_or_else(|| "./data".to_string(), |d| d.get_ref().clone());
    let header_timeout = c.duration(
        &raw.server.header_timeout,
        "server.header_timeout",
        Duration::from_secs(5),
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
        listen,
        base_url,
        data_dir: config_dir.join(
            Path::new(&data_dir)
                .strip_prefix("./")
                .unwrap_or(Path::new(&data_dir)),
        ),
    };

    let d = &raw.defaults;
    let max_body = match &d.max_body {
        None => DEFAULT_MAX_BODY,
        Some(v) => {
            let parsed = match v.get_ref() {
                RawSize::Bytes(n) if *n > 0 => Ok(*n as u64),
                RawSize::Bytes(n) => Err(format!("{n} must be a positive number of bytes")),
                RawSize::Text(t) => parse_size(t),
            };
            parsed.unwrap_or_else(|msg| {
                c.error(v.span(), "defaults.max_body", msg);
                DEFAULT_MAX_BODY
            })
        }
    };
    let user_agent = match &d.user_agent {
        Some(v) if v.get_ref().trim().is_empty() => {
            c.error(
                v.span(),
                "defaults.user_agent",
                "must not be empty: sites block anonymous clients",
            );
            default_user_agent()
        }
        Some(v) => v.get_ref().trim().to_string(),
        None => default_user_agent(),
    };
    let defaults = Defaults {
        poll: c.poll(&d.poll, "defaults.poll", DEFAULT_POLL),
        timeout: c.duration(&d.timeout, "defaults.timeout", DEFAULT_TIMEOUT),
        max_body,
        user_agent,
        summary_words: c.count(&d.summary_words, "defaults.summary_words", 10..501, 60) as usize,
    };

    let mut sources = Vec::new();
    let mut seen_ids = HashSet::new();
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
        topics.push(validate_topic(&mut c, t, &key, &seen_ids));
    }

    if c.errors.is_empty() {
        Ok(Config {
            path: path.to_path_buf(),
            server,
            defaults,
            sources,
            topics,
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
