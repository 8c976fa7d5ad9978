//! Validation of one `[[topic]]`: its sources, window, ranking, and the rules compiled from
//! keywords, exclusions and thresholds.

use super::Checker;
use crate::config::raw::{RawMinPoints, RawNumber, RawTopic};
use crate::config::suggest;
use crate::config::*;
use crate::select::{MinPoints, Sort, SummaryMode, Term, Topic, TopicRules};
use crate::sources::registry;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use toml::Spanned;

pub(super) fn validate_topic(
    c: &mut Checker,
    t: &RawTopic,
    key: &str,
    source_ids: &HashSet<String>,
    has_llm: bool,
) -> Topic {
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
    let about = t
        .about
        .as_ref()
        .map(|a| super::about::validate_about(c, a, &format!("{key}.about")));
    let include_domains = domains(c, &t.domains.include, &format!("{key}.domains.include"));
    let exclude_domains = domains(c, &t.domains.exclude, &format!("{key}.domains.exclude"));
    let default_relevance = if keywords.is_empty() && include_domains.is_empty() && about.is_none()
    {
        0.0
    } else {
        1.0
    };
    let min_relevance = match &t.min_relevance {
        None => default_relevance,
        Some(v) => c
            .non_negative(v, &format!("{key}.min_relevance"))
            .unwrap_or(default_relevance),
    };
    let about = about.map(|a| a.into_rule(min_relevance));
    let rules = TopicRules {
        about,
        include_domains,
        exclude_domains,
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
    let summaries = summary_mode(c, t, key, has_llm);
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

/// `summaries` and `min_points_for_llm`: `"llm"` needs an `[llm]` section, and
/// `min_points_for_llm` applies only to it.
fn summary_mode(c: &mut Checker, t: &RawTopic, key: &str, has_llm: bool) -> SummaryMode {
    let min_points = t.min_points_for_llm.as_ref().map(|_| {
        c.count(
            &t.min_points_for_llm,
            &format!("{key}.min_points_for_llm"),
            0..i64::MAX,
            0,
        )
    });
    let mode = match t.summaries.as_ref().map(|v| (v, v.get_ref().as_str())) {
        None | Some((_, "article")) => SummaryMode::Article,
        Some((_, "feed")) => SummaryMode::Feed,
        Some((v, "llm")) => {
            if !has_llm {
                c.error(
                    v.span(),
                    format!("{key}.summaries"),
                    "\"llm\" needs an [llm] section (endpoint and model)",
                );
            }
            SummaryMode::Llm { min_points }
        }
        Some((v, other)) => {
            c.error(
                v.span(),
                format!("{key}.summaries"),
                format!(
                    "{other:?} is not one of article, feed, llm{}",
                    suggest::hint(other, ["article", "feed", "llm"])
                ),
            );
            SummaryMode::Article
        }
    };
    if let (Some(v), false) = (&t.min_points_for_llm, mode.uses_llm()) {
        c.error(
            v.span(),
            format!("{key}.min_points_for_llm"),
            "applies only to topics with summaries = \"llm\"",
        );
    }
    mode
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
        match Term::parse(text, weight) {
            Ok(term) => compiled.push(term),
            Err(message) => c.error(span, key, message),
        }
    }
    compiled
}

/// Domains as written (`medium.com`, `blog.example.org`), lower-cased; a URL or anything
/// that is not a host name is an error.
fn domains(c: &mut Checker, list: &[Spanned<String>], key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for d in list {
        let domain = d
            .get_ref()
            .trim()
            .trim_start_matches("www.")
            .to_ascii_lowercase();
        let host_like = !domain.is_empty()
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
            });
        if host_like {
            out.push(domain);
        } else {
            c.error(
                d.span(),
                key,
                format!(
                    "{:?} is not a domain (write it like \"medium.com\", without scheme or path)",
                    d.get_ref()
                ),
            );
        }
    }
    out
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
                if !registry::scored_names().any(|n| n == site) {
                    c.error(
                        v.span(),
                        format!("{key}.{site}"),
                        format!(
                            "unknown site {site:?}{} (expected one of {})",
                            suggest::hint(site, registry::scored_names()),
                            registry::scored_names().collect::<Vec<_>>().join(", ")
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
