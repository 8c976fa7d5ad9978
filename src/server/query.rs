//! Query parameters that narrow a topic ad hoc (`limit`, `min_points`, `q`, `window`,
//! `sort`): validated, then turned into a narrowed topic.

use crate::config::units::{format_duration, parse_duration};
use crate::select::{Sort, Term, Topic};
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Narrowing {
    pub limit: Option<usize>,
    pub min_points: Option<i64>,
    /// Terms that must match (phrases kept as written).
    pub require: Vec<String>,
    /// Terms written `-term`: any match removes the story.
    pub exclude: Vec<String>,
    pub window: Option<Duration>,
    pub sort: Option<Sort>,
    /// The known parameters as written (trimmed), in the order first given, the last value
    /// of a repeated one winning: the canonical query.
    spelled: Vec<(&'static str, String)>,
}

/// A parameter with a bad value: answered with 400 and this message.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BadParam {
    pub name: &'static str,
    pub message: String,
}

impl std::fmt::Display for BadParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad query parameter `{}`: {}", self.name, self.message)
    }
}

const MAX_LIMIT: usize = 1000;
const KNOWN: [&str; 5] = ["limit", "min_points", "window", "sort", "q"];

/// Parses the query string of a topic URL. Unknown parameters are ignored (cache busters,
/// tracking), known ones must be valid.
pub(super) fn parse(query: Option<&str>, topic: &Topic) -> Result<Narrowing, BadParam> {
    let mut n = Narrowing::default();
    let bad = |name, message: String| BadParam { name, message };
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let value = value.trim();
        if let Some(name) = KNOWN.iter().copied().find(|k| *k == key) {
            match n.spelled.iter_mut().find(|(k, _)| *k == name) {
                Some(slot) => slot.1 = value.to_string(),
                None => n.spelled.push((name, value.to_string())),
            }
        }
        match key.as_ref() {
            "limit" => match value.parse::<usize>() {
                Ok(l) if (1..=MAX_LIMIT).contains(&l) => n.limit = Some(l),
                _ => {
                    return Err(bad(
                        "limit",
                        format!("{value:?} is not a number from 1 to {MAX_LIMIT}"),
                    ))
                }
            },
            "min_points" => match value.parse::<i64>() {
                Ok(p) if p >= 0 => n.min_points = Some(p),
                _ => {
                    return Err(bad(
                        "min_points",
                        format!("{value:?} is not a number of at least 0"),
                    ))
                }
            },
            "window" => match parse_duration(value) {
                Ok(w) if w.is_zero() => {
                    return Err(bad("window", "must be longer than zero".into()))
                }
                Ok(w) if w > topic.window => {
                    return Err(bad(
                        "window",
                        format!(
                            "{value} is longer than the topic's {} window",
                            format_duration(topic.window)
                        ),
                    ))
                }
                Ok(w) => n.window = Some(w),
                Err(e) => return Err(bad("window", e)),
            },
            "sort" => match Sort::parse(value) {
                Some(s) => n.sort = Some(s),
                None => {
                    return Err(bad(
                        "sort",
                        format!("{value:?} is not one of {}", Sort::NAMES.join(", ")),
                    ))
                }
            },
            "q" => {
                for term in split_terms(value) {
                    let (negated, text) = match term.strip_prefix('-') {
                        Some(rest) => (true, rest),
                        None => (false, term.as_str()),
                    };
                    if Term::new(text, 1.0).is_none() {
                        return Err(bad(
                            "q",
                            format!("{term:?} has no letters or digits to match"),
                        ));
                    }
                    if negated {
                        n.exclude.push(text.to_string());
                    } else {
                        n.require.push(text.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Words, `"quoted phrases"` and `-"excluded phrases"`.
fn split_terms(q: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                if !quoted && !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        terms.push(current);
    }
    terms.into_iter().filter(|t| t != "-").collect()
}

impl Narrowing {
    /// The narrowing as one query for every way of writing it: unknown parameters gone,
    /// repeated ones once, values trimmed ("" when nothing narrows). It keys the render cache
    /// and is the query of the feed's self link, so junk parameters never multiply entries.
    pub(super) fn canonical_query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.spelled {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// The topic with this narrowing applied.
    pub(super) fn apply(&self, topic: &Topic) -> Topic {
        let mut t = topic.clone();
        if let Some(l) = self.limit {
            t.limit = l;
        }
        if let Some(w) = self.window {
            t.window = w;
        }
        if let Some(s) = self.sort {
            t.sort = s;
        }
        t.rules.min_top_points = self.min_points;
        t.rules.required = self
            .require
            .iter()
            .filter_map(|r| Term::new(r, 1.0))
            .collect();
        t.rules
            .exclude
            .extend(self.exclude.iter().filter_map(|r| Term::new(r, 1.0)));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> Topic {
        Topic {
            slug: "t".into(),
            title: "T".into(),
            description: String::new(),
            sources: None,
            window: Duration::from_secs(30 * 86_400),
            limit: 30,
            sort: Sort::Points,
            rules: Default::default(),
            summaries: Default::default(),
            full_content: false,
        }
    }

    #[test]
    fn valid_parameters_narrow_the_topic() {
        let n = parse(Some("sort=hot&q=raft+%22leader+election%22+-crypto&limit=5&window=7d&min_points=10&utm_source=x"), &topic()).unwrap();
        assert_eq!(n.limit, Some(5));
        assert_eq!(n.min_points, Some(10));
        assert_eq!(n.require, ["raft", "leader election"]);
        assert_eq!(n.exclude, ["crypto"]);
        assert_eq!(n.window, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(n.sort, Some(Sort::Hot));
        let t = n.apply(&topic());
        assert_eq!(
            (
                t.limit,
                t.sort,
                t.rules.required.len(),
                t.rules.exclude.len()
            ),
            (5, Sort::Hot, 2, 1)
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let cases = [
            ("limit=0", "limit"),
            ("limit=lots", "limit"),
            ("min_points=-1", "min_points"),
            ("window=90d", "window"),
            ("window=7x", "window"),
            ("sort=best", "sort"),
            ("q=%2D%2D", "q"),
        ];
        for (query, name) in cases {
            let err = parse(Some(query), &topic()).unwrap_err();
            assert_eq!(err.name, name, "{query}");
            assert!(
                err.to_string()
                    .starts_with(&format!("bad query parameter `{name}`: ")),
                "{err}"
            );
        }
        assert_eq!(parse(None, &topic()).unwrap(), Narrowing::default());
        assert_eq!(parse(Some(""), &topic()).unwrap(), Narrowing::default());
    }

    #[test]
    fn equivalent_spellings_have_one_canonical_query() {
        let t = topic();
        let canonical = |q: &str| parse(Some(q), &t).unwrap().canonical_query();
        assert_eq!(canonical(""), "");
        assert_eq!(
            canonical("utm_source=x&junk=1"),
            "",
            "unknown parameters are ignored"
        );
        assert_eq!(canonical("limit=5&junk=7"), "limit=5");
        assert_eq!(canonical("junk=8&limit=%205&limit=5"), "limit=5");
        assert_eq!(
            canonical("window=2d&sort=recent&limit=3&fbclid=z"),
            "window=2d&sort=recent&limit=3",
            "the order as given, for self links that match the address asked for"
        );
        assert_eq!(canonical("q=raft+%22node+js%22"), "q=raft+%22node+js%22");
        assert_ne!(canonical("q=-zz1"), canonical("q=-zz2"));
    }
}
