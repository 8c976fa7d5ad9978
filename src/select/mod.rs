//! Selection: a topic's compiled rules applied to stored stories (sources, window, match,
//! exclusions, thresholds), then ranked and limited. Pure: stories in, stories out.

pub mod about;
pub(crate) mod explain;
pub(crate) mod matcher;
pub(crate) mod rank;
pub(crate) mod rules;

use crate::model::Story;
pub use about::{AboutPhrase, AboutRule, SemanticMatch};
use chrono::{DateTime, Utc};
pub use matcher::{Field, Term};
pub use rank::Sort;
pub use rules::{MatchedTerm, MinPoints, SightingCheck, TopicRules, Verdict};
use std::time::Duration;

/// One curated topic, validated and compiled from the config.
#[derive(Debug, Clone)]
pub struct Topic {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Source ids this topic draws from; `None` means every source.
    pub sources: Option<Vec<String>>,
    pub window: Duration,
    pub limit: usize,
    pub sort: Sort,
    pub rules: TopicRules,
    /// Where summaries of link posts without text come from.
    pub summaries: SummaryMode,
    /// Items carry the source's full (sanitized) body, not just the summary.
    pub full_content: bool,
}

/// `summaries = "article"` fetches the article page of link posts that carry no text;
/// `"feed"` keeps whatever the sources said (possibly nothing); `"llm"` reads articles too and
/// shows the language model's summary of stories with at least `min_points` (once made).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummaryMode {
    Feed,
    #[default]
    Article,
    Llm {
        /// `min_points_for_llm`: stories below it keep their extractive summary.
        min_points: Option<i64>,
    },
}

impl SummaryMode {
    pub fn reads_articles(self) -> bool {
        matches!(self, SummaryMode::Article | SummaryMode::Llm { .. })
    }

    pub fn uses_llm(self) -> bool {
        matches!(self, SummaryMode::Llm { .. })
    }

    /// The name written in feeds.toml.
    pub fn name(self) -> &'static str {
        match self {
            SummaryMode::Feed => "feed",
            SummaryMode::Article => "article",
            SummaryMode::Llm { .. } => "llm",
        }
    }
}

impl Topic {
    /// Oldest publication time a story may have to be in the window at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        now.checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// True when this topic reads the source `source_id`.
    pub fn reads(&self, source_id: &str) -> bool {
        self.sources
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == source_id))
    }

    /// True when one of the story's sources feeds this topic.
    pub fn draws_from(&self, story: &Story) -> bool {
        story.sources.iter().any(|s| self.reads(s))
    }

    /// True when the story is in this topic, wherever it was published: one of its sources
    /// feeds the topic and it passes the rules.
    pub fn admits(&self, story: &Story) -> bool {
        self.draws_from(story) && self.rules.passes(story)
    }

    /// True when the story is in this topic's feed built at `window_start`.
    pub fn shows(&self, story: &Story, window_start: DateTime<Utc>) -> bool {
        story.published >= window_start && self.admits(story)
    }
}

/// The topic's feed at `now`: stories in the window that pass the rules, best first,
/// at most `limit` of them.
pub fn select(
    topic: &Topic,
    candidates: impl IntoIterator<Item = Story>,
    now: DateTime<Utc>,
) -> Vec<Story> {
    let start = topic.window_start(now);
    let mut kept: Vec<Story> = candidates
        .into_iter()
        .filter(|s| topic.shows(s, start))
        .collect();
    rank::rank(&mut kept, topic.sort, now);
    kept.truncate(topic.limit);
    kept
}
