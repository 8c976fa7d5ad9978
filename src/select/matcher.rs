//! Term matching over a story's text: whole-word, case-insensitive words and phrases ("CAP
//! theorem" matches "the CAP Theorem" but not "capital theorems"), or regular expressions
//! written `/pattern/` (case-insensitive), over title, summary, article text, tags and the
//! article's domain; and the domain rules (a domain and its subdomains).

use crate::model::Story;
use crate::normalize::tokenize;
use std::borrow::Cow;

/// Which part of a story a term matched in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Summary,
    /// The text of the story's article page (its excerpt).
    Article,
    Tags,
    /// The host of the story's link.
    Domain,
}

impl Field {
    /// What a match here counts, as a share of the term's weight. An article's text is long
    /// and wanders: a word in it says less about the story than one in its title or summary.
    pub fn weight(self) -> f64 {
        match self {
            Field::Article => 0.5,
            _ => 1.0,
        }
    }
}

/// How a term is matched.
#[derive(Debug, Clone)]
enum Pattern {
    /// Consecutive tokens.
    Words(Vec<String>),
    /// A regular expression over the field's text, compiled once at load.
    Regex(regex::Regex),
}

/// One compiled term with its weight.
#[derive(Debug, Clone)]
pub struct Term {
    /// The term as written in the config.
    pub text: String,
    pub weight: f64,
    pattern: Pattern,
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        self.text == other.text && self.weight == other.weight
    }
}

/// Regexes are bounded so a config cannot make matching explode.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Term {
    /// Compiles a word or phrase term; `None` when it holds no word characters at all.
    pub fn new(text: &str, weight: f64) -> Option<Term> {
        let tokens = tokenize(text);
        (!tokens.is_empty()).then(|| Term {
            text: text.to_string(),
            weight,
            pattern: Pattern::Words(tokens),
        })
    }

    /// Compiles a term as written in a config: `/pattern/` is a regular expression, anything
    /// else a word or phrase. The error says what is wrong, for a config message.
    pub fn parse(text: &str, weight: f64) -> Result<Term, String> {
        match text
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
            .filter(|p| !p.is_empty())
        {
            Some(pattern) => regex::RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(|re| Term {
                    text: text.to_string(),
                    weight,
                    pattern: Pattern::Regex(re),
                })
                .map_err(|e| {
                    format!(
                        "bad regular expression {text:?}: {}",
                        one_line(&e.to_string())
                    )
                }),
            None => Term::new(text, weight)
                .ok_or_else(|| format!("term {text:?} has no letters or digits to match")),
        }
    }

    fn found_in(&self, field: &Text) -> bool {
        match &self.pattern {
            Pattern::Words(words) => {
                let n = words.len();
                field.tokens.len() >= n && field.tokens.windows(n).any(|w| w == words.as_slice())
            }
            Pattern::Regex(re) => re.is_match(&field.raw),
        }
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One field's text (borrowed from the story: rules run on every story of a window scan or
/// an index build) and its tokens.
#[derive(Debug, Default)]
struct Text<'s> {
    raw: Cow<'s, str>,
    tokens: Vec<String>,
}

impl<'s> Text<'s> {
    fn of(raw: impl Into<Cow<'s, str>>) -> Text<'s> {
        let raw = raw.into();
        Text {
            tokens: tokenize(&raw),
            raw,
        }
    }
}

/// The text of one story: what terms are matched against.
#[derive(Debug, Default)]
pub(crate) struct Document<'s> {
    title: Text<'s>,
    summary: Text<'s>,
    article: Text<'s>,
    /// Each tag separately, so a phrase never spans two tags.
    tags: Vec<Text<'s>>,
    domain: Text<'s>,
}

impl<'s> Document<'s> {
    pub(crate) fn new(title: &'s str, summary: &'s str, tags: &'s [String]) -> Document<'s> {
        Document {
            title: Text::of(title),
            summary: Text::of(summary),
            tags: tags.iter().map(|t| Text::of(t.as_str())).collect(),
            ..Document::default()
        }
    }

    /// Everything of `story` the rules read.
    pub(crate) fn of_story(story: &'s Story) -> Document<'s> {
        let mut doc = Document::new(&story.title, &story.summary, &story.tags);
        if let Some(article) = &story.article {
            doc.article = Text::of(article.excerpt.as_str());
        }
        doc.domain = Text::of(host_of(&story.url).unwrap_or_default());
        doc
    }

    /// The first field (title, summary, article, tags, domain) where `term` occurs.
    pub(crate) fn find(&self, term: &Term) -> Option<Field> {
        if term.found_in(&self.title) {
            Some(Field::Title)
        } else if term.found_in(&self.summary) {
            Some(Field::Summary)
        } else if term.found_in(&self.article) {
            Some(Field::Article)
        } else if self.tags.iter().any(|t| term.found_in(t)) {
            Some(Field::Tags)
        } else if term.found_in(&self.domain) {
            Some(Field::Domain)
        } else {
            None
        }
    }
}

/// The lower-case host of a link, without a leading `www.`.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    Some(
        host.strip_prefix("www.")
            .map(str::to_string)
            .unwrap_or(host),
    )
}

/// Whether `host` is `domain` or one of its subdomains (`blog.medium.com` is in
/// `medium.com`; `notmedium.com` is not).
pub(crate) fn in_domain(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// The first of `domains` that `story`'s link is in.
pub(crate) fn matching_domain<'d>(story: &Story, domains: &'d [String]) -> Option<&'d str> {
    if domains.is_empty() {
        return None;
    }
    let host = host_of(&story.url)?;
    domains
        .iter()
        .find(|d| in_domain(&host, d))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str) -> Document<'_> {
        Document::new(title, "", &[])
    }

    #[test]
    fn whole_words_only() {
        let raft = Term::new("raft", 1.0).unwrap();
        assert!(doc("Raft, explained").find(&raft).is_some());
        assert!(doc("The RAFT protocol").find(&raft).is_some());
        assert!(doc("Aircraft design").find(&raft).is_none());
        assert!(doc("Rafting season").find(&raft).is_none());
    }

    #[test]
    fn phrases_match_consecutive_words() {
        let cap = Term::new("CAP theorem", 3.0).unwrap();
        assert!(doc("Revisiting the cap  Theorem").find(&cap).is_some());
        assert!(doc("CAP-theorem myths").find(&cap).is_some());
        assert!(doc("Capital theorems").find(&cap).is_none());
        assert!(doc("CAP is not a theorem").find(&cap).is_none());
    }

    #[test]
    fn symbols_in_language_names() {
        let cpp = Term::new("C++", 1.0).unwrap();
        assert!(doc("Modern C++ tips").find(&cpp).is_some());
        assert!(doc("Modern C tips").find(&cpp).is_none());
        assert!(doc("Why C# rocks")
            .find(&Term::new("c#", 1.0).unwrap())
            .is_some());
    }

    #[test]
    fn fields_are_reported_in_order_and_tags_are_separate() {
        let tags = ["distributed".to_string(), "systems".to_string()];
        let d = Document::new("Intro", "All about consensus", &tags);
        assert_eq!(
            d.find(&Term::new("consensus", 1.0).unwrap()),
            Some(Field::Summary)
        );
        assert_eq!(
            d.find(&Term::new("distributed", 1.0).unwrap()),
            Some(Field::Tags)
        );
        assert_eq!(
            d.find(&Term::new("distributed systems", 1.0).unwrap()),
            None
        );
        assert!(Term::new("  --  ", 1.0).is_none());
    }

    #[test]
    fn regex_terms_match_raw_text_case_insensitively_and_bad_ones_are_errors() {
        let re = Term::parse("/post-?mortem/", 2.0).unwrap();
        assert!(doc("Our Postmortem of the outage").find(&re).is_some());
        assert!(doc("post-mortem: DNS").find(&re).is_some());
        assert!(doc("Mortem").find(&re).is_none());
        let err = Term::parse("/raft(/", 1.0).unwrap_err();
        assert!(
            err.starts_with("bad regular expression \"/raft(/\""),
            "{err}"
        );
        assert!(!err.contains('\n'));
        // Slashes only around the whole term make a regex.
        assert!(matches!(
            Term::parse("TCP/IP", 1.0).unwrap().pattern,
            Pattern::Words(_)
        ));
    }

    #[test]
    fn article_text_and_domain_are_fields_of_their_own() {
        let mut d = Document::new("A neutral title", "", &[]);
        d.article = Text::of("We replicate the log to three replicas with Raft.");
        d.domain = Text::of("engineering.example.com");
        assert_eq!(
            d.find(&Term::new("raft", 1.0).unwrap()),
            Some(Field::Article)
        );
        assert_eq!(
            d.find(&Term::new("engineering", 1.0).unwrap()),
            Some(Field::Domain)
        );
    }

    #[test]
    fn domains_match_their_subdomains_only() {
        assert!(in_domain("medium.com", "medium.com"));
        assert!(in_domain("blog.medium.com", "medium.com"));
        assert!(!in_domain("notmedium.com", "medium.com"));
        assert!(!in_domain("medium.com.evil.org", "medium.com"));
        assert_eq!(
            host_of("https://WWW.Example.org/a").as_deref(),
            Some("example.org")
        );
    }
}
