//! Why each candidate story is or is not in a topic: matched terms with weights and fields,
//! relevance against min_relevance, thresholds per site, exclusions, rank. Pure; rendered as a
//! terminal table or serialized as JSON.

use super::rank::rank;
use super::rules::Verdict;
use super::Topic;
use crate::model::Story;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub topic: String,
    pub window_start: DateTime<Utc>,
    pub min_relevance: f64,
    pub sort: String,
    pub limit: usize,
    /// Stories published within the window that were explained.
    pub candidates: usize,
    /// Set when the window holds more stories than one explanation reads: only the newest
    /// this many (and every story in the feed) were explained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_only: Option<usize>,
    pub in_feed: usize,
    pub stories: Vec<StoryExplanation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryExplanation {
    /// Position in the feed, 1-based; `None` when the story is not in it.
    pub rank: Option<usize>,
    pub title: String,
    pub url: String,
    pub published: DateTime<Utc>,
    pub points: i64,
    /// One line: why it is in the feed or what kept it out.
    pub reason: String,
    pub from_topic_sources: bool,
    pub verdict: Verdict,
    /// Which summary the story shows and why: `extractive: ...` or `llm (model ...)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Which candidates to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Every candidate, not just the ones in the feed or matching some keyword.
    pub all: bool,
    /// Only the story with this canonical URL.
    pub canonical_url: Option<String>,
}

pub(crate) fn explain(
    topic: &Topic,
    candidates: Vec<Story>,
    now: DateTime<Utc>,
    filter: &Filter,
) -> Explanation {
    let start = topic.window_start(now);
    let in_window: Vec<Story> = candidates
        .into_iter()
        .filter(|s| s.published >= start)
        .collect();
    let mut passing: Vec<Story> = in_window
        .iter()
        .filter(|s| topic.admits(s))
        .cloned()
        .collect();
    rank(&mut passing, topic.sort, now);
    let feed: Vec<_> = passing.iter().take(topic.limit).map(|s| s.id).collect();
    let mut stories: Vec<StoryExplanation> = in_window
        .iter()
        .filter(|s| {
            filter
                .canonical_url
                .as_ref()
                .is_none_or(|u| *u == s.canonical_url)
        })
        .map(|s| {
            let verdict = topic.rules.evaluate(s);
            let position = passing.iter().position(|p| p.id == s.id);
            let rank = feed.iter().position(|id| *id == s.id).map(|i| i + 1);
            let from_topic_sources = topic.draws_from(s);
            let reason = reason(topic, &verdict, from_topic_sources, rank, position);
            StoryExplanation {
                rank,
                title: s.title.clone(),
                url: s.url.clone(),
                published: s.published,
                points: s.top_points(),
                reason,
                from_topic_sources,
                verdict,
                summary: None,
            }
        })
        .filter(|e| {
            filter.all
                || filter.canonical_url.is_some()
                || e.rank.is_some()
                || !e.verdict.matched.is_empty()
                || e.verdict
                    .semantic
                    .as_ref()
                    .is_some_and(|m| m.contribution > 0.0)
        })
        .collect();
    stories.sort_by(|a, b| {
        let key =
            |e: &StoryExplanation| (e.rank.is_none(), e.rank.unwrap_or(0), -e.verdict.relevance);
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.published.cmp(&a.published))
    });
    Explanation {
        topic: topic.slug.clone(),
        window_start: start,
        min_relevance: topic.rules.min_relevance,
        sort: topic.sort.name().to_string(),
        limit: topic.limit,
        candidates: in_window.len(),
        newest_only: None,
        in_feed: feed.len(),
        stories,
    }
}

fn reason(
    topic: &Topic,
    v: &Verdict,
    from_sources: bool,
    rank: Option<usize>,
    passing_position: Option<usize>,
) -> String {
    if let Some(rank) = rank {
        return format!("in the feed at #{rank}");
    }
    if !from_sources {
        return "not from this topic's sources".into();
    }
    if let Some(position) = passing_position {
        return format!(
            "passes, but #{} is below the limit of {}",
            position + 1,
            topic.limit
        );
    }
    let mut why = Vec::new();
    if !v.excluded_by.is_empty() {
        why.push(format!(
            "excluded by {}",
            v.excluded_by
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !v.relevant {
        why.push(format!(
            "relevance {} < {}",
            v.relevance, topic.rules.min_relevance
        ));
    }
    if !v.popular {
        let failing: Vec<String> = v
            .checks
            .iter()
            .filter(|c| !c.passes)
            .map(|c| {
                let mut parts = Vec::new();
                if let (Some(p), Some(min)) = (c.points, c.min_points) {
                    if p < min {
                        parts.push(format!("{p} pts < {min}"));
                    }
                }
                if let (Some(n), Some(min)) = (c.comments, c.min_comments) {
                    if n < min {
                        parts.push(format!("{n} comments < {min}"));
                    }
                }
                format!("{} {}", c.site, parts.join(", "))
            })
            .collect();
        why.push(if failing.is_empty() {
            "below the ad hoc points threshold".into()
        } else {
            format!("too few: {}", failing.join("; "))
        });
    }
    if why.is_empty() {
        "a required term is missing".into()
    } else {
        why.join("; ")
    }
}

impl Explanation {
    /// A readable table for a terminal.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "topic {}: {} of {} candidates in the feed (since {}, min_relevance {}, sort {}, limit {})\n\n",
            self.topic,
            self.in_feed,
            self.candidates,
            self.window_start.format("%Y-%m-%d"),
            self.min_relevance,
            self.sort,
            self.limit
        );
        if let Some(newest) = self.newest_only {
            out.push_str(&format!(
                "(the window holds more: only its newest {newest} stories and the feed were read)\n\n"
            ));
        }
        out.push_str(&format!(
            "{:>4}  {:>5}  {:>6}  {:<48}  {}\n",
            "RANK", "REL", "POINTS", "TITLE", "WHY"
        ));
        for s in &self.stories {
            let rank = s.rank.map_or_else(|| "-".to_string(), |r| r.to_string());
            let matched: Vec<String> = s
                .verdict
                .matched
                .iter()
                .map(|m| format!("{}({:+}, {:?})", m.term, m.weight, m.field).to_lowercase())
                .collect();
            let title: String = if s.title.chars().count() > 48 {
                format!("{}…", s.title.chars().take(47).collect::<String>())
            } else {
                s.title.clone()
            };
            out.push_str(&format!(
                "{:>4}  {:>5}  {:>6}  {:<48}  {}\n",
                rank, s.verdict.relevance, s.points, title, s.reason
            ));
            if !matched.is_empty() {
                out.push_str(&format!("{:>22}matched: {}\n", "", matched.join(" ")));
            }
            if let Some(m) = &s.verdict.semantic {
                out.push_str(&format!(
                    "{:>22}similarity: {:.2} to {:?} (threshold {:.2}, {:+})\n",
                    "", m.similarity, m.nearest, m.threshold, m.contribution
                ));
                if let Some(u) = &m.unlike {
                    out.push_str(&format!(
                        "{:>22}unlike: {:.2} to {:?}{}\n",
                        "",
                        u.similarity,
                        u.phrase,
                        if m.excluded { " (excluded)" } else { "" }
                    ));
                }
            }
            if let Some(summary) = &s.summary {
                out.push_str(&format!("{:>22}summary: {summary}\n", ""));
            }
        }
        if self.stories.is_empty() {
            out.push_str("(no candidates to show; try --all)\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoredSighting;
    use crate::select::{MinPoints, Sort, Term, TopicRules};
    use chrono::TimeZone;

    fn story(title: &str, points: i64) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        Story {
            canonical_url: format!("https://x.org/{}", title.replace(' ', "-")),
            url: "https://x.org/".into(),
            sources: vec!["hn".into()],
            sightings: vec![StoredSighting {
                site_name: "Hacker News".into(),
                ..StoredSighting::scored("hackernews", Some(points), Some(1), at)
            }],
            ..Story::bare(title, at)
        }
    }

    #[test]
    fn each_outcome_has_its_reason() {
        let topic = Topic {
            slug: "ds".into(),
            title: "DS".into(),
            description: String::new(),
            sources: None,
            window: std::time::Duration::from_secs(30 * 86_400),
            limit: 30,
            sort: Sort::Points,
            rules: TopicRules {
                keywords: vec![
                    Term::new("raft", 3.0).unwrap(),
                    Term::new("cache", 1.0).unwrap(),
                ],
                exclude: vec![Term::new("airdrop", 1.0).unwrap()],
                min_relevance: 2.0,
                min_points: MinPoints::PerSite([("hackernews".to_string(), 100)].into()),
                ..TopicRules::default()
            },
            summaries: Default::default(),
            full_content: false,
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
        let stories = vec![
            story("Raft wins", 300),
            story("A cache", 500),
            story("Raft airdrop", 900),
            story("Raft small", 50),
            story("Gardening", 999),
        ];
        let e = explain(&topic, stories.clone(), now, &Filter::default());
        assert_eq!((e.candidates, e.in_feed), (5, 1));
        let reasons: Vec<(&str, &str)> = e
            .stories
            .iter()
            .map(|s| (s.title.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("Raft wins", "in the feed at #1"),
                ("Raft airdrop", "excluded by \"airdrop\""),
                ("Raft small", "too few: Hacker News 50 pts < 100"),
                ("A cache", "relevance 1 < 2"),
            ]
        );
        assert_eq!(e.stories[0].verdict.matched[0].term, "raft");
        let table = e.to_table();
        assert!(
            table.contains("topic ds: 1 of 5 candidates in the feed"),
            "{table}"
        );
        assert!(table.contains("matched: raft(+3, title)"), "{table}");
        let all = explain(
            &topic,
            stories.clone(),
            now,
            &Filter {
                all: true,
                canonical_url: None,
            },
        );
        assert_eq!(all.stories.len(), 5);
        let one = explain(
            &topic,
            stories,
            now,
            &Filter {
                all: false,
                canonical_url: Some("https://x.org/Gardening".into()),
            },
        );
        assert_eq!(one.stories.len(), 1);
        assert_eq!(one.stories[0].title, "Gardening");
        assert_eq!(one.stories[0].reason, "relevance 0 < 2");
    }
}
