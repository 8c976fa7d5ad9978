//! Validation of one `[[source]]`: its kind, the keys that apply to that kind, and the
//! endpoint it polls.

use super::Checker;
use crate::config::raw::RawSource;
use crate::config::suggest;
use crate::config::*;
use crate::sources::registry::{self, SourceKind, REDDIT_LISTINGS, REDDIT_PERIODS};
use crate::sources::SourceConfig;
use std::ops::Range;
use toml::Spanned;

pub(super) fn validate_source(
    c: &mut Checker,
    s: &RawSource,
    key: &str,
    default_poll: Duration,
) -> Option<SourceConfig> {
    let kind_name = s.kind.get_ref().as_str();
    let allowed: &[&str] = match registry::site(kind_name) {
        Some(site) => site.options,
        None => {
            let other = kind_name;
            c.error(
                s.kind.span(),
                format!("{key}.kind"),
                format!(
                    "unknown kind {other:?}{} (expected one of {})",
                    if matches!(other, "rss" | "atom" | "json" | "jsonfeed" | "rdf") {
                        ", did you mean `feed`? (it reads RSS, Atom and JSON Feed)".to_string()
                    } else {
                        suggest::hint(other, registry::kind_names())
                    },
                    registry::kind_names().collect::<Vec<_>>().join(", ")
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
