//! Building a topic's views from the store: select the window's stories and render one
//! format or the HTML page. Blocking (reads sled); the server runs it off the async threads.

use crate::config::{units::format_duration, Config};
use crate::render::html::{self, PageFacts, TopicLink};
use crate::render::{newest_update, FeedMeta, Format};
use crate::select::{self, Topic};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};

/// What one topic URL serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Feed(Format),
    Page,
}

impl View {
    pub fn content_type(self) -> &'static str {
        match self {
            View::Feed(f) => f.content_type(),
            View::Page => "text/html; charset=utf-8",
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
}

/// Renders `view` of `topic` at `now`; `fallback_updated` dates an empty feed.
pub fn render_topic(
    config: &Config,
    store: &Store,
    topic: &Topic,
    view: View,
    now: DateTime<Utc>,
    fallback_updated: DateTime<Utc>,
) -> Result<(Vec<u8>, DateTime<Utc>), StoreError> {
    let candidates = store.stories_since(topic.window_start(now))?;
    let stories = select::select(topic, candidates, now);
    let base = &config.server.base_url;
    let updated = newest_update(&stories, fallback_updated);
    let self_url = match view {
        View::Feed(f) => format!("{base}/t/{}.{}", topic.slug, f.extension()),
        View::Page => format!("{base}/t/{}", topic.slug),
    };
    let meta = FeedMeta {
        title: topic.title.clone(),
        description: topic.description.clone(),
        home_url: format!("{base}/t/{}", topic.slug),
        self_url,
        updated,
    };
    let bytes = match view {
        View::Feed(format) => format.render(&meta, &stories),
        View::Page => {
            let facts = PageFacts {
                slug: topic.slug.clone(),
                sources: source_names(config, topic),
                window: format_duration(topic.window),
            };
            html::topic_page(base, &meta, &facts, &stories)
        }
    };
    Ok((bytes, updated))
}

fn source_names(config: &Config, topic: &Topic) -> Vec<String> {
    config
        .sources
        .iter()
        .filter(|s| topic.sources.as_ref().is_none_or(|ids| ids.contains(&s.id)))
        .map(|s| s.id.clone())
        .collect()
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

/// Seconds a client may cache a topic: the shortest poll interval among its sources.
pub fn max_age(config: &Config, topic: &Topic) -> u64 {
    config
        .sources
        .iter()
        .filter(|s| topic.sources.as_ref().is_none_or(|ids| ids.contains(&s.id)))
        .map(|s| s.poll.as_secs())
        .min()
        .unwrap_or(config.defaults.poll.as_secs())
}
