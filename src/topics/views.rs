//! Building what the server sends, from config and store: a topic's feed, page or embed
//! (window selected, rules applied, rendered), the index and the OPML. Blocking (reads sled);
//! the server runs it off the async threads.

use super::{items, llm_summaries};
use crate::config::{units::human_duration, Config};
use crate::model::StoryId;
use crate::render::html::{self, PageFacts, TopicLink};
use crate::render::opml::{self, OpmlFeed};
use crate::render::{newest_update, FeedMeta, Format};
use crate::select::{self, explain, Topic};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// What one topic URL serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Feed(Format),
    Page,
    Embed,
}

impl View {
    pub fn content_type(self) -> &'static str {
        match self {
            View::Feed(f) => f.content_type(),
            View::Page | View::Embed => "text/html; charset=utf-8",
        }
    }

    /// `/t/{name}`: `slug.rss`, `slug.atom`, `slug.json` or the bare slug (the page).
    pub fn parse(name: &str) -> (String, Option<View>) {
        match name.rsplit_once('.') {
            Some((slug, ext)) => (
                slug.to_string(),
                Format::from_extension(ext).map(View::Feed),
            ),
            None => (name.to_string(), Some(View::Page)),
        }
    }

    /// Whether `path` is `self.path(slug)`, without making that string.
    pub(crate) fn is_path(self, slug: &str, path: &str) -> bool {
        let Some(rest) = path.strip_prefix("/t/").and_then(|r| r.strip_prefix(slug)) else {
            return false;
        };
        match self {
            View::Feed(f) => rest.strip_prefix('.') == Some(f.extension()),
            View::Page => rest.is_empty(),
            View::Embed => rest == "/embed",
        }
    }

    pub(crate) fn path(self, slug: &str) -> String {
        match self {
            View::Feed(f) => format!("/t/{slug}.{}", f.extension()),
            View::Page => format!("/t/{slug}"),
            View::Embed => format!("/t/{slug}/embed"),
        }
    }
}

/// A rendered view and what describes it.
pub struct TopicRender {
    pub bytes: Vec<u8>,
    /// The newest change among the items (the Unix epoch for an empty feed, so the same store
    /// and config always give the same bytes, across restarts and in `export`).
    pub updated: DateTime<Utc>,
    /// Until when these bytes stay right without a store change: the first moment an item
    /// leaves the window (or a minute, for the time-decayed `hot` ranking).
    pub valid_until: Option<DateTime<Utc>>,
}

/// How long a `hot` ranking is trusted: its scores decay with every passing minute.
const HOT_RERANK: chrono::Duration = chrono::Duration::minutes(1);

/// Renders `view` of `topic` (already narrowed) at `now`. `query` is the query that narrowed
/// it ("" when none), kept in the self link.
pub fn render_topic(
    config: &Config,
    store: &Store,
    topic: &Topic,
    view: View,
    query: &str,
    now: DateTime<Utc>,
) -> Result<TopicRender, StoreError> {
    let configured = config.topic(&topic.slug).unwrap_or(topic);
    let stories = items::shown_items(store, configured, topic, now)?;
    let window = chrono::Duration::from_std(topic.window).unwrap_or(chrono::Duration::MAX);
    let leaves_window = stories
        .iter()
        .filter_map(|s| s.published.checked_add_signed(window))
        .min();
    let valid_until = match topic.sort {
        select::Sort::Hot => {
            Some(leaves_window.map_or(now + HOT_RERANK, |t| t.min(now + HOT_RERANK)))
        }
        _ => leaves_window,
    };
    let base = &config.server.base_url;
    let updated = newest_update(&stories, DateTime::<Utc>::UNIX_EPOCH);
    let meta = FeedMeta {
        title: topic.title.clone(),
        description: topic.description.clone(),
        home_url: format!("{base}/t/{}", topic.slug),
        self_url: format!("{base}{}{query}", view.path(&topic.slug)),
        updated,
        full_content: topic.full_content,
        // Hubs hear only of the topic's own feed URLs, so only those name them.
        hubs: if query.is_empty() {
            config.push.hubs.iter().map(|u| u.to_string()).collect()
        } else {
            Vec::new()
        },
    };
    let bytes = match view {
        View::Feed(format) => format.render(&meta, &stories),
        View::Page => {
            let facts = PageFacts {
                slug: topic.slug.clone(),
                sources: source_names(config, topic),
                window: human_duration(topic.window),
            };
            html::topic_page(base, &meta, &facts, &stories)
        }
        View::Embed => html::embed(&meta, &stories),
    };
    Ok(TopicRender {
        bytes,
        updated,
        valid_until,
    })
}

/// Most stories of the window one explanation reads (besides the feed's own): memory and
/// time per call stay bounded however large the window.
pub(crate) const EXPLAIN_NEWEST: usize = 2000;

/// Why each candidate is in `topic` or not: the newest `EXPLAIN_NEWEST` stories of the
/// window, every story in the feed, and the story `filter` asks for; with the summary each
/// shows (extractive or the model's) and why.
pub fn explain_topic(
    config: &Config,
    store: &Store,
    topic: &Topic,
    filter: &explain::Filter,
    now: DateTime<Utc>,
) -> Result<explain::Explanation, StoreError> {
    let start = topic.window_start(now);
    let mut candidates = store.newest_since(start, EXPLAIN_NEWEST + 1)?;
    let limited = candidates.len() > EXPLAIN_NEWEST;
    candidates.truncate(EXPLAIN_NEWEST);
    let mut seen: HashSet<StoryId> = candidates.iter().map(|s| s.id).collect();
    // With the feed among the candidates, its stories keep their ranks.
    let mut more = items::items(store, topic, topic, now)?;
    if let Some(url) = &filter.canonical_url {
        more.extend(store.story(StoryId::from_canonical_url(url))?);
    }
    for story in more {
        if story.published >= start && seen.insert(story.id) {
            candidates.push(story);
        }
    }
    // Every story of a topic that uses the model, or the one story asked about; by link,
    // what an explanation names a story by.
    let described = topic.summaries.uses_llm() || filter.canonical_url.is_some();
    let summaries: std::collections::HashMap<String, String> = candidates
        .iter()
        .filter(|s| {
            described
                && filter
                    .canonical_url
                    .as_ref()
                    .is_none_or(|u| *u == s.canonical_url)
        })
        .map(|s| {
            let why = llm_summaries::describe(config, store, topic, s, now)?;
            Ok((s.url.clone(), why))
        })
        .collect::<Result<_, StoreError>>()?;
    let mut explanation = explain::explain(topic, candidates, now, filter);
    explanation.newest_only = limited.then_some(EXPLAIN_NEWEST);
    for story in &mut explanation.stories {
        story.summary = summaries.get(&story.url).cloned();
    }
    Ok(explanation)
}

/// Display names of the sources a topic draws from.
fn source_names(config: &Config, topic: &Topic) -> Vec<String> {
    config.sources_of(topic).map(|s| s.name.clone()).collect()
}

pub fn render_index(config: &Config) -> Vec<u8> {
    let topics: Vec<TopicLink> = config
        .topics
        .iter()
        .map(|t| TopicLink {
            slug: t.slug.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
        })
        .collect();
    html::index(&config.server.base_url, &topics)
}

pub fn render_opml(config: &Config) -> Vec<u8> {
    let base = &config.server.base_url;
    let feeds: Vec<OpmlFeed> = config
        .topics
        .iter()
        .map(|t| OpmlFeed {
            title: t.title.clone(),
            description: t.description.clone(),
            xml_url: format!("{base}/t/{}.rss", t.slug),
            html_url: format!("{base}/t/{}", t.slug),
        })
        .collect();
    opml::render("feedsift topics", &feeds)
}

/// Seconds a client may cache a topic: the shortest poll interval among its sources.
pub fn max_age(config: &Config, topic: &Topic) -> u64 {
    config
        .sources_of(topic)
        .map(|s| s.poll.as_secs())
        .min()
        .unwrap_or(config.defaults.poll.as_secs())
}
