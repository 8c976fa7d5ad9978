//! Turns the raw schema into a typed `Config`, collecting every problem with its place.

use super::error::{ConfigError, ConfigErrors};
use super::raw::{RawConfig, RawMinPoints, RawNumber, RawSize, RawSource, RawTopic};
use super::sites::{SourceKind, KIND_NAMES, REDDIT_LISTINGS, REDDIT_PERIODS};
use super::suggest;
use super::units::{parse_duration, parse_size};
use super::*;
use crate::select::{MinPoints, Sort, SummaryMode, Term, Topic, TopicRules};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use toml::Spanned;

const SCORED_KINDS: &[&str] = &["hackernews", "reddit", "lobsters", "devto"];

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let e = ConfigError::at(self.path, self.text, Some(span), Some(key.into()), message);
        self.errors.push(e);
    }

    fn duration(
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

    fn poll(&mut self, value: &Option<Spanned<String>>, key: &str, default: Duration) -> Duration {
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

    fn http_url(&mut self, value: &Spanned<String>, key: &str) -> Option<Url> {
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

    fn count(
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

    fn id_like(&mut self, value: &Spanned<String>, key: &str) -> bool {
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

pub fn validate(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
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

fn validate_source(
    c: &mut Checker,
    s: &RawSource,
    key: &str,
    default_poll: Duration,
) -> Option<SourceConfig> {
    let kind_name = s.kind.get_ref().as_str();
    let allowed: &[&str] = match kind_name {
        "feed" | "hackernews" => &[],
        "reddit" => &["subreddit", "listing", "period", "include_nsfw"],
        "lobsters" | "devto" => &["tag"],
        other => {
            c.error(
                s.kind.span(),
                format!("{key}.kind"),
                format!(
                    "unknown kind {other:?}{} (expected one of {})",
                    if matches!(other, "rss" | "atom" | "json" | "jsonfeed" | "rdf") {
                        ", did you mean `feed`? (it reads RSS, Atom and JSON Feed)".to_string()
                    } else {
                        suggest::hint(other, KIND_NAMES.iter().copied())
                    },
                    KIND_NAMES.join(", ")
                ),
            );
            return None;
        }
    };
    let site_keys: [(&str, Option<Range<usize>>); 5] = [
        ("subreddit", s.subreddit.as_ref().map(|v| v.span())),
        ("listing", s.listing.as_ref().map(|v| v.span())),
        ("period", s.period.as_ref().map(|v| v.span())),
        ("include_nsfw", s.include_nsfw.as_ref().map(|v| v.span())),
        ("tag", s.tag.as_ref().map(|v| v.span())),
    ];
    for (name, span) in site_keys {
        if let (Some(span), false) = (span, allowed.contains(&name)) {
            c.error(
                span,
                format!("{key}.{name}"),
                format!("does not apply to kind = {kind_name:?}"),
            );
        }
    }
    let kind = match kind_name {
        "feed" => SourceKind::Feed,
        "hackernews" => SourceKind::HackerNews,
        "reddit" => reddit_kind(c, s, key)?,
        "lobsters" => SourceKind::Lobsters {
            tag: slug_value(c, &s.tag, &format!("{key}.tag")),
        },
        _ => SourceKind::Devto {
            tag: slug_value(c, &s.tag, &format!("{key}.tag")),
        },
    };
    let url = match &s.url {
        Some(u) => c.http_url(u, &format!("{key}.url"))?,
        None => match kind.default_url() {
            Some(u) => u,
            None => {
                c.error(
                    s.kind.span(),
                    format!("{key}.url"),
                    "is required for kind = \"feed\"",
                );
                return None;
            }
        },
    };
    let poll = c.poll(&s.poll, &format!("{key}.poll"), default_poll);
    let name = s.name.as_ref().map_or_else(
        || kind.display_name(s.id.get_ref()),
        |n| n.get_ref().trim().to_string(),
    );
    Some(SourceConfig {
        id: s.id.get_ref().clone(),
        kind,
        url,
        poll,
        name,
    })
}

fn reddit_kind(c: &mut Checker, s: &RawSource, key: &str) -> Option<SourceKind> {
    let Some(sub) = &s.subreddit else {
        c.error(
            s.kind.span(),
            format!("{key}.subreddit"),
            "is required for kind = \"reddit\" (e.g. subreddit = \"programming\")",
        );
        return None;
    };
    let name = sub
        .get_ref()
        .trim()
        .trim_start_matches("/r/")
        .trim_start_matches("r/");
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    {
        c.error(
            sub.span(),
            format!("{key}.subreddit"),
            format!("{:?} is not a subreddit name", sub.get_ref()),
        );
        return None;
    }
    let listing = one_of(c, &s.listing, &format!("{key}.listing"), REDDIT_LISTINGS)
        .unwrap_or_else(|| "top".into());
    let period = one_of(c, &s.period, &format!("{key}.period"), REDDIT_PERIODS);
    let period = match (listing.as_str(), period) {
        ("top", None) => Some("week".to_string()),
        ("top", p) => p,
        (_, Some(_)) => {
            if let Some(p) = &s.period {
                c.error(
                    p.span(),
                    format!("{key}.period"),
                    "only applies to listing = \"top\"",
                );
            }
            None
        }
        (_, None) => None,
    };
    let include_nsfw = s.include_nsfw.as_ref().is_some_and(|v| *v.get_ref());
    Some(SourceKind::Reddit {
        subreddit: name.to_string(),
        listing,
        period,
        include_nsfw,
    })
}

fn one_of(
    c: &mut Checker,
    value: &Option<Spanned<String>>,
    key: &str,
    allowed: &[&str],
) -> Option<String> {
    let v = value.as_ref()?;
    if allowed.contains(&v.get_ref().as_str()) {
        Some(v.get_ref().clone())
    } else {
        c.error(
            v.span(),
            key,
            format!(
                "{:?} is not one of {}{}",
                v.get_ref(),
                allowed.join(", "),
                suggest::hint(v.get_ref(), allowed.iter().copied())
            ),
        );
        None
    }
}

fn slug_value(c: &mut Checker, value: &Option<Spanned<String>>, key: &str) -> Option<String> {
    let v = value.as_ref()?;
    let ok = !v.get_ref().is_empty()
        && v.get_ref()
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | ','));
    if !ok {
        c.error(
            v.span(),
            key,
            format!("{:?} is not a tag name", v.get_ref()),
        );
    }
    ok.then(|| v.get_ref().clone())
}

fn validate_topic(c: &mut Checker, t: &RawTopic, key: &str, source_ids: &HashSet<String>) -> Topic {
    if t.title.get_ref().trim().is_empty() {
        c.error(t.title.span(), format!("{key}.title"), "must not be empty");
    }
    let sources = t.sources.as_ref().map(|list| {
        for s in list.get_ref() {
            if !source_ids.contains(s.get_ref()) {
                c.error(
                    s.span(),
                    format!("{key}.sources"),
                    format!(
                        "unknown source {:?} (no [[source]] has this id){}",
                        s.get_ref(),
                        suggest::hint(s.get_ref(), source_ids.iter().map(String::as_str))
                    ),
                );
            }
        }
        list.get_ref().iter().map(|s| s.get_ref().clone()).collect()
    });
    let sort = match &t.sort {
        None => Sort::Points,
        Some(v) => Sort::parse(v.get_ref()).unwrap_or_else(|| {
            c.error(
                v.span(),
                format!("{key}.sort"),
                format!(
                    "{:?} is not one of {}{}",
                    v.get_ref(),
                    Sort::NAMES.join(", "),
                    suggest::hint(v.get_ref(), Sort::NAMES.iter().copied())
                ),
            );
            Sort::Points
        }),
    };
    let keywords = compile_terms(
        c,
        t.keywords
            .iter()
            .map(|(k, v)| (k.as_str(), Some(*v.get_ref()), v.span())),
        &format!("{key}.keywords"),
    );
    let exclude = compile_terms(
        c,
        t.exclude
            .terms
            .iter()
            .map(|v| (v.get_ref().as_str(), None, v.span())),
        &format!("{key}.exclude.terms"),
    );
    let default_relevance = if keywords.is_empty() { 0.0 } else { 1.0 };
    let min_relevance = match &t.min_relevance {
        None => default_relevance,
        Some(v) => number(c, v, &format!("{key}.min_relevance")).unwrap_or(default_relevance),
    };
    let rules = TopicRules {
        keywords,
        required: Vec::new(),
        min_top_points: None,
        exclude,
        min_relevance,
        min_points: min_points(c, &t.min_points, &format!("{key}.min_points")),
        min_comments: t.min_comments.as_ref().map(|_| {
            c.count(
                &t.min_comments,
                &format!("{key}.min_comments"),
                0..i64::MAX,
                0,
            )
        }),
    };
    let summaries = match t.summaries.as_ref().map(|v| (v, v.get_ref().as_str())) {
        None | Some((_, "article")) => SummaryMode::Article,
        Some((_, "feed")) => SummaryMode::Feed,
        Some((v, other)) => {
            c.error(
                v.span(),
                format!("{key}.summaries"),
                format!("{other:?} is not one of article, feed"),
            );
            SummaryMode::Article
        }
    };
    let full_content = match t.content.as_ref().map(|v| (v, v.get_ref().as_str())) {
        None | Some((_, "summary")) => false,
        Some((_, "full")) => true,
        Some((v, other)) => {
            c.error(
                v.span(),
                format!("{key}.content"),
                format!("{other:?} is not one of summary, full"),
            );
            false
        }
    };
    Topic {
        slug: t.slug.get_ref().clone(),
        title: t.title.get_ref().trim().to_string(),
        description: t
            .description
            .as_ref()
            .map_or_else(String::new, |d| d.get_ref().trim().to_string()),
        sources,
        window: c.duration(&t.window, &format!("{key}.window"), DEFAULT_WINDOW),
        limit: c.count(
            &t.limit,
            &format!("{key}.limit"),
            1..1001,
            DEFAULT_LIMIT as i64,
        ) as usize,
        sort,
        rules,
        summaries,
        full_content,
    }
}

fn number(c: &mut Checker, v: &Spanned<RawNumber>, key: &str) -> Option<f64> {
    let n = v.get_ref().as_f64();
    if n.is_finite() && n >= 0.0 {
        Some(n)
    } else {
        c.error(v.span(), key, format!("{n} must be a number of at least 0"));
        None
    }
}

fn compile_terms<'t>(
    c: &mut Checker,
    terms: impl Iterator<Item = (&'t str, Option<RawNumber>, Range<usize>)>,
    key: &str,
) -> Vec<Term> {
    let mut compiled = Vec::new();
    for (text, weight, span) in terms {
        let weight = weight.map_or(1.0, RawNumber::as_f64);
        if !weight.is_finite() {
            c.error(
                span,
                key,
                format!("weight of {text:?} must be a finite number"),
            );
            continue;
        }
        match Term::new(text, weight) {
            Some(term) => compiled.push(term),
            None => c.error(
                span,
                key,
                format!("term {text:?} has no letters or digits to match"),
            ),
        }
    }
    compiled
}

fn min_points(c: &mut Checker, value: &Option<Spanned<RawMinPoints>>, key: &str) -> MinPoints {
    let Some(v) = value else {
        return MinPoints::None;
    };
    match v.get_ref() {
        RawMinPoints::All(n) if *n >= 0 => MinPoints::All(*n),
        RawMinPoints::All(n) => {
            c.error(v.span(), key, format!("{n} must be at least 0"));
            MinPoints::None
        }
        RawMinPoints::PerSite(map) => {
            let mut out = BTreeMap::new();
            for (site, n) in map {
                if !SCORED_KINDS.contains(&site.as_str()) {
                    c.error(
                        v.span(),
                        format!("{key}.{site}"),
                        format!(
                            "unknown site {site:?}{} (expected one of {})",
                            suggest::hint(site, SCORED_KINDS.iter().copied()),
                            SCORED_KINDS.join(", ")
                        ),
                    );
                } else if *n < 0 {
                    c.error(v.span(), format!("{key}.{site}"), "must be at least 0");
                } else {
                    out.insert(site.clone(), *n);
                }
            }
            MinPoints::PerSite(out)
        }
    }
}
