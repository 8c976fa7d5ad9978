//! The source kinds and their default endpoints (each documented in the README).

use url::Url;

#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// Any RSS, Atom or JSON Feed URL.
    Feed,
    /// Hacker News through the Algolia search API.
    HackerNews,
    Reddit {
        subreddit: String,
        listing: String,
        period: Option<String>,
        include_nsfw: bool,
    },
    Lobsters {
        tag: Option<String>,
    },
    Devto {
        tag: Option<String>,
    },
}

pub const KIND_NAMES: &[&str] = &["feed", "hackernews", "reddit", "lobsters", "devto"];
pub const REDDIT_LISTINGS: &[&str] = &["hot", "top", "new", "rising", "best"];
pub const REDDIT_PERIODS: &[&str] = &["hour", "day", "week", "month", "year", "all"];

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::HackerNews => "hackernews",
            SourceKind::Reddit { .. } => "reddit",
            SourceKind::Lobsters { .. } => "lobsters",
            SourceKind::Devto { .. } => "devto",
        }
    }

    /// How the source is named to readers when the config gives no `name`.
    pub fn display_name(&self, id: &str) -> String {
        match self {
            SourceKind::Feed => id.to_string(),
            SourceKind::HackerNews => "Hacker News".into(),
            SourceKind::Reddit { subreddit, .. } => format!("/r/{subreddit}"),
            SourceKind::Lobsters { tag: None } => "Lobsters".into(),
            SourceKind::Lobsters { tag: Some(tag) } => format!("Lobsters #{tag}"),
            SourceKind::Devto { tag: None } => "Dev.to".into(),
            SourceKind::Devto { tag: Some(tag) } => format!("Dev.to #{tag}"),
        }
    }

    /// The endpoint polled when the source gives no `url`; `None` for plain feeds.
    pub fn default_url(&self) -> Option<Url> {
        let text = match self {
            SourceKind::Feed => return None,
            SourceKind::HackerNews => {
                "https://hn.algolia.com/api/v1/search?tags=front_page&hitsPerPage=100".to_string()
            }
            SourceKind::Reddit {
                subreddit,
                listing,
                period,
                ..
            } => {
                let mut u = format!(
                    "https://www.reddit.com/r/{subreddit}/{listing}.json?limit=100&raw_json=1"
                );
                if let Some(p) = period {
                    u.push_str(&format!("&t={p}"));
                }
                u
            }
            SourceKind::Lobsters { tag: None } => "https://lobste.rs/hottest.json".to_string(),
            SourceKind::Lobsters { tag: Some(tag) } => format!("https://lobste.rs/t/{tag}.json"),
            SourceKind::Devto { tag: None } => {
                "https://dev.to/api/articles?top=7&per_page=100".to_string()
            }
            SourceKind::Devto { tag: Some(tag) } => {
                format!("https://dev.to/api/articles?top=7&per_page=100&tag={tag}")
            }
        };
        Url::parse(&text).ok()
    }
}
