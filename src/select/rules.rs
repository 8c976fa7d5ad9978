//! A topic's compiled rules and the verdict they give on one story: keyword relevance,
//! exclusions, and per-site points and comments thresholds.

use super::matcher::{matching_domain, Document, Field, Term};
use crate::model::Story;
use std::collections::BTreeMap;

/// Points threshold: one for every scored site, or one per site kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum MinPoints {
    #[default]
    None,
    All(i64),
    PerSite(BTreeMap<String, i64>),
}

impl MinPoints {
    fn threshold_for(&self, kind: &str) -> Option<i64> {
        match self {
            MinPoints::None => None,
            MinPoints::All(n) => Some(*n),
            MinPoints::PerSite(map) => map.get(kind).copied(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TopicRules {
    pub keywords: Vec<Term>,
    /// Terms that must all match (ad hoc narrowing with `?q=`).
    pub required: Vec<Term>,
    pub exclude: Vec<Term>,
    pub min_relevance: f64,
    pub min_points: MinPoints,
    pub min_comments: Option<i64>,
    /// The story's best points must reach this (ad hoc narrowing with `?min_points=`).
    pub min_top_points: Option<i64>,
    /// The semantic rule (`[topic.about]`), when the topic has one.
    pub about: Option<super::about::AboutRule>,
    /// Stories from these domains (or their subdomains) are relevant whatever their words.
    pub include_domains: Vec<String>,
    /// Stories from these domains (or their subdomains) are never in the topic.
    pub exclude_domains: Vec<String>,
}

/// One sighting held against the topic's points and comments thresholds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SightingCheck {
    pub site: String,
    pub points: Option<i64>,
    pub min_points: Option<i64>,
    pub comments: Option<i64>,
    pub min_comments: Option<i64>,
    pub passes: bool,
}

/// A keyword that matched, where, and what it is worth.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchedTerm {
    pub term: String,
    pub weight: f64,
    pub field: Field,
}

/// Why a story is in a topic or not.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub matched: Vec<MatchedTerm>,
    pub relevance: f64,
    pub relevant: bool,
    pub excluded_by: Vec<String>,
    /// Whether some sighting passes the points and comments thresholds.
    pub popular: bool,
    /// The threshold check of each sighting (empty when the topic sets no threshold).
    pub checks: Vec<SightingCheck>,
    pub passes: bool,
    /// How the story compares with `[topic.about]` (absent without the rule, or while the
    /// story or the phrases have no embedding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<super::about::SemanticMatch>,
}

impl TopicRules {
    /// Whether the story is in the topic: the same answer as `evaluate(story).passes`, but
    /// the cheap checks (points, comments) come first and the text is tokenized only when the
    /// story could still pass. Selection over a window calls this for every story.
    pub fn passes(&self, story: &Story) -> bool {
        if !self.passes_gates(story) {
            return false;
        }
        if self.keywords.is_empty()
            && self.exclude.is_empty()
            && self.required.is_empty()
            && self.about.is_none()
            && self.include_domains.is_empty()
            && self.exclude_domains.is_empty()
        {
            return self.min_relevance <= 0.0;
        }
        if matching_domain(story, &self.exclude_domains).is_some() {
            return false;
        }
        let (semantic, unlike) = self.semantic_judgement(story);
        if unlike {
            return false;
        }
        let doc = Document::of_story(story);
        let relevance: f64 = self
            .keywords
            .iter()
            .filter_map(|t| doc.find(t).map(|field| t.weight * field.weight()))
            .sum::<f64>()
            + semantic
            + self.domain_weight(story)
            + 0.0;
        relevance >= self.min_relevance
            && !self.exclude.iter().any(|t| doc.find(t).is_some())
            && self.required.iter().all(|t| doc.find(t).is_some())
    }

    /// What an included domain adds: enough alone to reach `min_relevance`.
    fn domain_weight(&self, story: &Story) -> f64 {
        match matching_domain(story, &self.include_domains) {
            Some(_) => self.min_relevance,
            None => 0.0,
        }
    }

    /// The cheap checks alone: some sighting passes the points and comments thresholds (and
    /// the story reaches `min_top_points`). What decides whether a story's article is worth
    /// fetching before its text is judged.
    pub fn passes_gates(&self, story: &Story) -> bool {
        let no_thresholds = self.min_points == MinPoints::None && self.min_comments.is_none();
        (no_thresholds || story.sightings.iter().any(|s| self.sighting_passes(s)))
            && self
                .min_top_points
                .is_none_or(|min| story.top_points() >= min)
    }

    pub fn evaluate(&self, story: &Story) -> Verdict {
        let doc = Document::of_story(story);
        let mut matched: Vec<MatchedTerm> = self
            .keywords
            .iter()
            .filter_map(|t| {
                doc.find(t).map(|field| MatchedTerm {
                    term: t.text.clone(),
                    weight: t.weight * field.weight(),
                    field,
                })
            })
            .collect();
        if let Some(domain) = matching_domain(story, &self.include_domains) {
            matched.push(MatchedTerm {
                term: format!("domain {domain}"),
                weight: self.domain_weight(story),
                field: Field::Domain,
            });
        }
        // `+ 0.0` turns the empty sum (-0.0) into 0.
        let semantic = self.about.as_ref().and_then(|a| a.compare(story));
        let relevance: f64 = matched.iter().map(|m| m.weight).sum::<f64>()
            + semantic.as_ref().map_or(0.0, |m| m.contribution)
            + 0.0;
        let relevant = relevance >= self.min_relevance;
        let excluded_by: Vec<String> = self
            .exclude
            .iter()
            .filter(|t| doc.find(t).is_some())
            .map(|t| t.text.clone())
            .chain(matching_domain(story, &self.exclude_domains).map(|d| format!("domain {d}")))
            .chain(
                semantic
                    .as_ref()
                    .filter(|m| m.excluded)
                    .and_then(|m| m.unlike.as_ref())
                    .map(|u| format!("unlike {:?} ({:.2})", u.phrase, u.similarity)),
            )
            .collect();
        let missing_required = self.required.iter().any(|t| doc.find(t).is_none());
        let checks = self.threshold_checks(story);
        let popular = (checks.is_empty() || checks.iter().any(|c| c.passes))
            && self
                .min_top_points
                .is_none_or(|min| story.top_points() >= min);
        Verdict {
            passes: relevant && excluded_by.is_empty() && popular && !missing_required,
            matched,
            relevance,
            relevant,
            excluded_by,
            popular,
            checks,
            semantic,
        }
    }

    /// What `[topic.about]` adds toward `min_relevance` for this story (0 without the rule
    /// or an embedding), and whether one of its `unlike` phrases excludes it.
    fn semantic_judgement(&self, story: &Story) -> (f64, bool) {
        self.about.as_ref().map_or((0.0, false), |a| a.judge(story))
    }

    /// One sighting against the points and comments thresholds.
    fn sighting_passes(&self, s: &crate::model::StoredSighting) -> bool {
        let points_ok = match (self.min_points.threshold_for(s.kind()), s.points) {
            (Some(min), Some(points)) => points >= min,
            _ => true,
        };
        let comments_ok = match (self.min_comments, s.comments) {
            (Some(min), Some(comments)) => comments >= min,
            _ => true,
        };
        points_ok && comments_ok
    }

    /// Each sighting against the points and comments thresholds (none when the topic has
    /// none). A story passes when ANY of its sightings passes both. Sightings without a score
    /// (plain feeds) are not held to a points threshold, nor to a comments one when they carry
    /// no comment count.
    fn threshold_checks(&self, story: &Story) -> Vec<SightingCheck> {
        if self.min_points == MinPoints::None && self.min_comments.is_none() {
            return Vec::new();
        }
        story
            .sightings
            .iter()
            .map(|s| {
                let min_points = self.min_points.threshold_for(s.kind());
                SightingCheck {
                    site: s.site_name.clone(),
                    points: s.points,
                    min_points,
                    comments: s.comments,
                    min_comments: self.min_comments,
                    passes: self.sighting_passes(s),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoredSighting;
    use chrono::{TimeZone, Utc};

    fn story(
        title: &str,
        summary: &str,
        tags: &[&str],
        sightings: &[(&str, Option<i64>, Option<i64>)],
    ) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        Story {
            summary: summary.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            sightings: sightings
                .iter()
                .map(|(site, points, comments)| {
                    StoredSighting::scored(site, *points, *comments, at)
                })
                .collect(),
            ..Story::bare(title, at)
        }
    }

    fn rules() -> TopicRules {
        TopicRules {
            keywords: vec![
                Term::new("raft", 3.0).unwrap(),
                Term::new("CAP theorem", 3.0).unwrap(),
                Term::new("distributed", 1.0).unwrap(),
            ],
            exclude: vec![Term::new("crypto airdrop", 1.0).unwrap()],
            min_relevance: 2.0,
            ..TopicRules::default()
        }
    }

    #[test]
    fn weights_add_up_once_per_term_across_fields() {
        let v = rules().evaluate(&story(
            "Raft and raft again",
            "distributed log",
            &["raft"],
            &[],
        ));
        assert_eq!(v.relevance, 4.0);
        assert_eq!(
            v.matched,
            vec![
                MatchedTerm {
                    term: "raft".into(),
                    weight: 3.0,
                    field: Field::Title
                },
                MatchedTerm {
                    term: "distributed".into(),
                    weight: 1.0,
                    field: Field::Summary
                },
            ]
        );
        assert!(v.passes);
    }

    #[test]
    fn below_min_relevance_fails() {
        let v = rules().evaluate(&story("A distributed cache", "", &[], &[]));
        assert_eq!(v.relevance, 1.0);
        assert!(!v.relevant && !v.passes);
    }

    #[test]
    fn tags_count_as_matches() {
        let v = rules().evaluate(&story("Five years in production", "", &["Raft"], &[]));
        assert!(v.passes);
        assert_eq!(v.matched[0].field, Field::Tags);
    }

    #[test]
    fn exclusions_remove_relevant_stories() {
        let v = rules().evaluate(&story(
            "Raft consensus for every Crypto Airdrop",
            "",
            &[],
            &[],
        ));
        assert!(v.relevant);
        assert_eq!(v.excluded_by, vec!["crypto airdrop".to_string()]);
        assert!(!v.passes);
    }

    #[test]
    fn points_pass_when_any_sighting_passes() {
        let mut r = rules();
        r.min_points = MinPoints::PerSite(
            [("hackernews".to_string(), 100), ("reddit".to_string(), 200)].into(),
        );
        let low_both = story(
            "Raft",
            "",
            &[],
            &[
                ("hackernews", Some(99), None),
                ("reddit:/r/x", Some(150), None),
            ],
        );
        assert!(!r.evaluate(&low_both).passes);
        let reddit_high = story(
            "Raft",
            "",
            &[],
            &[
                ("hackernews", Some(99), None),
                ("reddit:/r/x", Some(250), None),
            ],
        );
        assert!(r.evaluate(&reddit_high).passes);
        // A site with no threshold of its own is not held to another site's.
        let lobsters_only = story("Raft", "", &[], &[("lobsters", Some(3), None)]);
        assert!(r.evaluate(&lobsters_only).passes);
        r.min_points = MinPoints::All(50);
        assert!(!r.evaluate(&lobsters_only).passes);
        let feed_only = story("Raft", "", &[], &[("feed:blog", None, None)]);
        assert!(r.evaluate(&feed_only).passes);
    }

    #[test]
    fn the_fast_path_agrees_with_evaluate() {
        let mut r = rules();
        r.min_points = MinPoints::PerSite([("hackernews".to_string(), 100)].into());
        r.required = vec![Term::new("log", 1.0).unwrap()];
        let cases = [
            story("Raft log", "", &[], &[("hackernews", Some(150), None)]),
            story("Raft log", "", &[], &[("hackernews", Some(50), None)]),
            story(
                "Raft",
                "distributed",
                &[],
                &[("hackernews", Some(500), None)],
            ),
            story(
                "Raft log crypto airdrop",
                "",
                &[],
                &[("lobsters", Some(1), None)],
            ),
            story("CAP theorem log", "", &["x"], &[("feed:blog", None, None)]),
            story("nothing", "", &[], &[]),
        ];
        for s in &cases {
            assert_eq!(r.passes(s), r.evaluate(s).passes, "{}", s.title);
        }
        assert_eq!(
            TopicRules::default().passes(&cases[5]),
            TopicRules::default().evaluate(&cases[5]).passes
        );
    }

    #[test]
    fn comments_threshold() {
        let mut r = rules();
        r.min_comments = Some(10);
        assert!(
            !r.evaluate(&story(
                "Raft",
                "",
                &[],
                &[("hackernews", Some(500), Some(9))]
            ))
            .passes
        );
        assert!(
            r.evaluate(&story(
                "Raft",
                "",
                &[],
                &[
                    ("hackernews", Some(5), Some(9)),
                    ("lobsters", Some(1), Some(10))
                ]
            ))
            .passes
        );
    }

    #[test]
    fn article_text_regexes_and_domains_decide_like_keywords() {
        let mut rules = TopicRules {
            keywords: vec![
                Term::new("replication", 2.0).unwrap(),
                Term::parse("/post-?mortems?/", 2.0).unwrap(),
            ],
            exclude: vec![Term::new("crypto", 1.0).unwrap()],
            min_relevance: 2.0,
            include_domains: vec!["rust-lang.org".into()],
            exclude_domains: vec!["medium.com".into()],
            ..TopicRules::default()
        };
        let mut neutral = story("What we learned this year", "", &[], &[]);
        neutral.url = "https://engineering.example.com/2026".into();
        assert!(!rules.passes(&neutral));
        neutral.article = Some(crate::model::Article {
            excerpt: "Our storage layer moved to synchronous replication across zones.".into(),
        });
        assert!(
            !rules.passes(&neutral),
            "a term in the article counts half: replication 2 -> 1 < 2"
        );
        neutral.article = Some(crate::model::Article {
            excerpt:
                "Synchronous replication across zones, and the postmortem of the day it failed."
                    .into(),
        });
        assert!(rules.passes(&neutral), "the article's text counts");
        let v = rules.evaluate(&neutral);
        assert_eq!(v.matched[0].field, Field::Article);
        assert!(v.passes);

        let mut outage = story("The Postmortem of our Tuesday outage", "", &[], &[]);
        outage.url = "https://status.example.com/x".into();
        assert!(rules.passes(&outage), "a regex term");

        let mut blog = story("Announcing Rust 1.90", "", &[], &[]);
        blog.url = "https://blog.rust-lang.org/2026/rust-1.90".into();
        assert!(rules.passes(&blog), "an included domain is enough alone");
        assert_eq!(
            rules.evaluate(&blog).matched[0].term,
            "domain rust-lang.org"
        );

        let mut medium = neutral.clone();
        medium.url = "https://blog.medium.com/replication".into();
        assert!(
            !rules.passes(&medium),
            "an excluded parent domain drops its subdomains"
        );
        assert_eq!(rules.evaluate(&medium).excluded_by, ["domain medium.com"]);

        neutral.article = Some(crate::model::Article {
            excerpt: "Replication of a crypto exchange's order book; a post-mortem.".into(),
        });
        assert!(
            !rules.passes(&neutral),
            "an excluded term in the article excludes"
        );
        rules.exclude.clear();
        assert!(rules.passes(&neutral));
    }
}
