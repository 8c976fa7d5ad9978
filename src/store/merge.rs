//! Merging one normalized sighting into the story it belongs to: one sighting per site,
//! latest points and comments kept, tags and sources unioned, earliest publication kept.

use crate::model::{StoredSighting, Story};
use crate::normalize::Candidate;

/// Merges `c` into `existing` (or starts a new story). Never changes the story id; a merge
/// that changes nothing returns the story as it was (`updated` included).
pub fn merge(existing: Option<Story>, c: &Candidate) -> Story {
    let s = &c.sighting;
    let published = s.published.unwrap_or(s.fetched_at);
    let stored = StoredSighting {
        site: s.site.clone(),
        site_name: s.site_name.clone(),
        item_id: s.item_id.clone(),
        points: s.points,
        comments: s.comments,
        discussion_url: s.discussion_url.clone(),
        first_seen: s.fetched_at,
    };
    let Some(mut story) = existing else {
        let story = Story {
            id: c.id,
            canonical_url: c.canonical_url.clone(),
            url: c.clean_url.clone(),
            title: s.title.clone(),
            summary: c.summary.clone(),
            content_html: c.content_html.clone(),
            author: article_author(s),
            published,
            updated: s.fetched_at,
            revised: None,
            tags: union(&[], &s.tags),
            sources: vec![s.source.clone()],
            sightings: vec![stored],
            article: None,
            embedding: None,
            llm_summary: None,
        };
        return story;
    };
    let before = story.clone();
    match story.sightings.iter_mut().find(|k| k.site == stored.site) {
        Some(known) => {
            known.points = stored.points.or(known.points);
            known.comments = stored.comments.or(known.comments);
            known.discussion_url = stored.discussion_url.or(known.discussion_url.take());
            known.site_name = stored.site_name;
            if known.item_id.is_none() {
                known.item_id = stored.item_id;
            }
        }
        None => story.sightings.push(stored),
    }
    if !story.sources.contains(&s.source) {
        story.sources.push(s.source.clone());
    }
    story.tags = union(&story.tags, &s.tags);
    story.published = story.published.min(published);
    if story.title.is_empty() {
        story.title = s.title.clone();
    }
    // The fullest text wins (the article's own feed beats a site's one-line blurb), which
    // also makes the result independent of the order sources are polled in.
    if c.summary.len() > story.summary.len() {
        story.summary = c.summary.clone();
    }
    if c.content_html.as_ref().map_or(0, String::len)
        > story.content_html.as_ref().map_or(0, String::len)
    {
        story.content_html = c.content_html.clone();
    }
    if story.author.is_none() {
        story.author = article_author(s);
    }
    if link_rank(&c.clean_url) < link_rank(&story.url) {
        story.url = c.clean_url.clone();
    }
    if story.title != before.title
        || story.summary != before.summary
        || story.content_html != before.content_html
    {
        story.revised = Some(s.fetched_at);
    }
    if story != before {
        story.updated = story.updated.max(s.fetched_at);
    }
    story
}

/// The sighting's author when that site's authors wrote the article (elsewhere the author
/// only submitted it).
fn article_author(s: &crate::model::Sighting) -> Option<String> {
    crate::sources::registry::site(crate::model::site_kind(&s.site))
        .filter(|site| site.author_wrote_it)
        .and(s.author.clone())
}

/// Orders the links seen for one article, best first: https, no fragment, shortest, then
/// alphabetical. Taking the minimum makes the link independent of polling order.
fn link_rank(url: &str) -> (bool, bool, usize, &str) {
    (
        !url.starts_with("https://"),
        url.contains('#'),
        url.len(),
        url,
    )
}

/// `a` plus the tags of `b` not already in it (compared case-insensitively), order kept.
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for tag in b {
        if !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Sighting, StoryId};
    use chrono::{TimeZone, Utc};

    fn candidate(site: &str, points: Option<i64>, hour: u32) -> Candidate {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, hour, 0, 0).unwrap();
        Candidate {
            id: StoryId::from_canonical_url("https://example.com/a"),
            canonical_url: "https://example.com/a".into(),
            clean_url: "https://example.com/a".into(),
            summary: String::new(),
            content_html: None,
            sighting: Sighting {
                source: format!("{site}-src"),
                site: site.into(),
                site_name: site.into(),
                item_id: None,
                url: "https://example.com/a".into(),
                title: "A".into(),
                text: String::new(),
                html: None,
                author: None,
                tags: vec![site.to_uppercase()],
                points,
                comments: Some(3),
                discussion_url: Some(format!("https://{site}.example/1")),
                published: Some(at),
                fetched_at: at,
                is_self_post: false,
            },
        }
    }

    #[test]
    fn two_sites_make_one_story_with_two_sightings() {
        let first = merge(None, &candidate("hackernews", Some(10), 1));
        let story = merge(Some(first.clone()), &candidate("lobsters", Some(5), 3));
        assert_ne!(story, first);
        assert_eq!(story.sightings.len(), 2);
        assert_eq!(story.tags, vec!["HACKERNEWS", "LOBSTERS"]);
        assert_eq!(story.sources, vec!["hackernews-src", "lobsters-src"]);
        assert_eq!(
            story.published,
            Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_result_does_not_depend_on_polling_order() {
        let mut variants = Vec::new();
        for (site, url, author) in [
            ("hackernews", "https://example.com/a", Some("submitter")),
            ("reddit:/r/x", "http://www.example.com/a/", None),
            ("lobsters", "https://example.com/a#intro", None),
            ("feed:blog", "https://example.com/a/", Some("Ada")),
        ] {
            let mut c = candidate(site, Some(1), 1);
            c.clean_url = url.into();
            c.sighting.author = author.map(String::from);
            variants.push(c);
        }
        let forward = variants
            .iter()
            .fold(None, |story, c| Some(merge(story, c)))
            .unwrap();
        let backward = variants
            .iter()
            .rev()
            .fold(None, |story, c| Some(merge(story, c)))
            .unwrap();
        assert_eq!(forward.url, "https://example.com/a");
        assert_eq!(backward.url, forward.url);
        assert_eq!(forward.author.as_deref(), Some("Ada"));
        assert_eq!(backward.author, forward.author);
    }

    #[test]
    fn repoll_updates_points_in_place() {
        let first = merge(None, &candidate("hackernews", Some(10), 1));
        let id = first.id;
        let story = merge(Some(first.clone()), &candidate("hackernews", Some(25), 2));
        assert_ne!(story, first);
        assert_eq!(story.id, id);
        assert_eq!(story.sightings.len(), 1);
        assert_eq!(story.sightings[0].points, Some(25));
        let again = merge(Some(story.clone()), &candidate("hackernews", Some(25), 3));
        assert_eq!(
            again, story,
            "a re-poll that changes nothing leaves the story as it was"
        );
    }
}
