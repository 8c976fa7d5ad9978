//! The site registry: every source kind once, with its config name, its options, whether
//! its sightings carry points, its adapter, display name and default endpoint (each
//! documented in the README). Config, adapters and health read kinds only from here.

use super::{devto, feed, hackernews, lobsters, reddit, Parsed, SourceContext, SourceError};
use std::time::Duration;
use url::Url;

/// One source kind as config, adapters and reports see it.
pub struct Site {
    /// The `kind = "..."` of the config, and the `site` of sightings from scored sites.
    pub name: &'static str,
    /// Config keys that apply to this kind only.
    pub options: &'static [&'static str],
    /// How readers see the site (a feed is named after its source instead).
    pub display_name: &'static str,
    /// Its sightings carry points and comments (per-site thresholds may name it).
    pub scored: bool,
    /// A sighting's author wrote the article (elsewhere the author only submitted it).
    pub author_wrote_it: bool,
    pub parse: fn(&SourceContext, &[u8]) -> Result<Parsed, SourceError>,
}

pub(crate) const FEED: Site = Site {
    name: "feed",
    display_name: "",
    options: &[],
    scored: false,
    author_wrote_it: true,
    parse: feed::parse,
};
pub(crate) const HACKERNEWS: Site = Site {
    name: "hackernews",
    display_name: "Hacker News",
    options: &[],
    scored: true,
    author_wrote_it: false,
    parse: hackernews::parse,
};
pub(crate) const REDDIT: Site = Site {
    name: "reddit",
    display_name: "Reddit",
    options: &["subreddit", "listing", "period", "include_nsfw"],
    scored: true,
    author_wrote_it: false,
    parse: reddit::parse,
};
pub(crate) const LOBSTERS: Site = Site {
    name: "lobsters",
    display_name: "Lobsters",
    options: &["tag"],
    scored: true,
    author_wrote_it: false,
    parse: lobsters::parse,
};
pub(crate) const DEVTO: Site = Site {
    name: "devto",
    display_name: "Dev.to",
    options: &["tag"],
    scored: true,
    author_wrote_it: true,
    parse: devto::parse,
};

/// Every kind, in the order the README lists them.
pub(crate) const SITES: &[Site] = &[FEED, HACKERNEWS, REDDIT, LOBSTERS, DEVTO];

/// The site named `name` in a config.
pub(crate) fn site(name: &str) -> Option<&'static Site> {
    SITES.iter().find(|s| s.name == name)
}

/// Names of every kind, for messages.
pub(crate) fn kind_names() -> impl Iterator<Item = &'static str> + Clone {
    SITES.iter().map(|s| s.name)
}

/// Names of the kinds whose sightings carry points.
pub(crate) fn scored_names() -> impl Iterator<Item = &'static str> + Clone {
    SITES.iter().filter(|s| s.scored).map(|s| s.name)
}

/// A configured source: what to poll, how often, and how readers see its name.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub id: String,
    pub kind: SourceKind,
    /// The endpoint polled: the configured `url`, or the kind's default endpoint.
    pub url: Url,
    pub poll: Duration,
    /// Display name used for plain feeds' sightings (defaults to the id).
    pub name: String,
}

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

pub(crate) const REDDIT_LISTINGS: &[&str] = &["hot", "top", "new", "rising", "best"];
pub(crate) const REDDIT_PERIODS: &[&str] = &["hour", "day", "week", "month", "year", "all"];

impl SourceKind {
    /// This kind's entry in the registry.
    pub fn site(&self) -> &'static Site {
        let index = match self {
            SourceKind::Feed => 0,
            SourceKind::HackerNews => 1,
            SourceKind::Reddit { .. } => 2,
            SourceKind::Lobsters { .. } => 3,
            SourceKind::Devto { .. } => 4,
        };
        &SITES[index]
    }

    pub fn name(&self) -> &'static str {
        self.site().name
    }

    /// How the source is named to readers when the config gives no `name`.
    pub fn display_name(&self, id: &str) -> String {
        match self {
            SourceKind::Feed => id.to_string(),
            SourceKind::HackerNews => HACKERNEWS.display_name.into(),
            SourceKind::Reddit { subreddit, .. } => format!("/r/{subreddit}"),
            SourceKind::Lobsters { tag: None } => LOBSTERS.display_name.into(),
            SourceKind::Lobsters { tag: Some(tag) } => format!("{} #{tag}", LOBSTERS.display_name),
            SourceKind::Devto { tag: None } => DEVTO.display_name.into(),
            SourceKind::Devto { tag: Some(tag) } => format!("{} #{tag}", DEVTO.display_name),
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
