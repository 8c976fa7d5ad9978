//! Renderers: one file per output format, each a pure `(&FeedMeta, &[Story]) -> bytes`.
//! This module holds what they share: feed metadata, dates, and the sightings line.

pub(crate) mod atom;
pub mod html;
pub(crate) mod jsonfeed;
pub(crate) mod opml;
pub(crate) mod rss;
pub(crate) mod xml;

use crate::model::{StoredSighting, Story};
use chrono::{DateTime, Utc};

/// Everything a renderer needs besides the stories.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    pub title: String,
    pub description: String,
    /// The topic's HTML page.
    pub home_url: String,
    /// This feed's own address (including any query that narrowed it).
    pub self_url: String,
    /// The newest change among the items (or a fixed time for an empty feed).
    pub updated: DateTime<Utc>,
    /// Items carry the source's sanitized body instead of the summary.
    pub full_content: bool,
}

/// Output formats and their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    JsonFeed,
}

impl Format {
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::JsonFeed),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::JsonFeed => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::JsonFeed => "application/feed+json; charset=utf-8",
        }
    }

    pub fn render(self, meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
        match self {
            Format::Rss => rss::render(meta, stories),
            Format::Atom => atom::render(meta, stories),
            Format::JsonFeed => jsonfeed::render(meta, stories),
        }
    }
}

/// Sightings best first: most points, then most comments, then site name.
pub fn ranked_sightings(story: &Story) -> Vec<&StoredSighting> {
    let mut list: Vec<&StoredSighting> = story.sightings.iter().collect();
    list.sort_by(|a, b| {
        b.points
            .cmp(&a.points)
            .then(b.comments.cmp(&a.comments))
            .then(a.site_name.cmp(&b.site_name))
    });
    list
}

/// "Hacker News 225 pts (41 comments)": one sighting as readers see it.
pub fn sighting_label(s: &StoredSighting) -> (String, String) {
    let mut figures = String::new();
    if let Some(points) = s.points {
        figures.push_str(&format!(" {points} pts"));
    }
    match s.comments {
        Some(1) => figures.push_str(" (1 comment)"),
        Some(n) if n > 0 => figures.push_str(&format!(" ({n} comments)")),
        _ => {}
    }
    (s.site_name.clone(), figures)
}

/// "Sources: Hacker News 225 pts (41 comments) · /r/programming 426 pts" as plain text.
pub fn sources_text(story: &Story) -> String {
    let parts: Vec<String> = ranked_sightings(story)
        .into_iter()
        .map(|s| {
            let (name, figures) = sighting_label(s);
            format!("{name}{figures}")
        })
        .collect();
    format!("Sources: {}", parts.join(" · "))
}

/// The same line as HTML, each site name linking to its discussion.
pub fn sources_html(story: &Story) -> String {
    let mut out = String::from("Sources: ");
    for (i, s) in ranked_sightings(story).into_iter().enumerate() {
        if i > 0 {
            out.push_str(" · ");
        }
        let (name, figures) = sighting_label(s);
        match &s.discussion_url {
            Some(url) => {
                out.push_str("<a href=\"");
                xml::escape_into(&mut out, url);
                out.push_str("\">");
                xml::escape_into(&mut out, &name);
                out.push_str("</a>");
            }
            None => xml::escape_into(&mut out, &name),
        }
        xml::escape_into(&mut out, &figures);
    }
    out
}

/// An item's HTML body: the summary (or, for full-content topics, the source's sanitized
/// body), then the sources line.
pub fn item_html(story: &Story, full_content: bool) -> String {
    let mut out = String::new();
    if let (true, Some(body)) = (full_content, &story.content_html) {
        out.push_str(body);
    } else if !story.summary.is_empty() {
        out.push_str("<p>");
        xml::escape_into(&mut out, &story.summary);
        out.push_str("</p>");
    }
    out.push_str("<p>");
    out.push_str(&sources_html(story));
    out.push_str("</p>");
    out
}

/// The item's plain-text body: summary, blank line, sources line.
pub fn item_text(story: &Story) -> String {
    if story.summary.is_empty() {
        sources_text(story)
    } else {
        format!("{}\n\n{}", story.summary, sources_text(story))
    }
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The feed's `updated`: newest item change, else the fallback.
pub fn newest_update(stories: &[Story], fallback: DateTime<Utc>) -> DateTime<Utc> {
    stories.iter().map(|s| s.updated).max().unwrap_or(fallback)
}

#[cfg(test)]
pub(crate) mod fixtures;
