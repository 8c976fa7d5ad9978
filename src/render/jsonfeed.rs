//! JSON Feed 1.1 output; each item's `_feedsift` extension lists its sightings.

use super::{
    clean_meta, clean_stories, item_html, item_text, newest_update, ranked_sightings, rfc3339,
    FeedMeta,
};
use crate::model::Story;
use serde_json::{json, Map, Value};

pub(crate) fn render(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let (meta, stories) = (clean_meta(meta), clean_stories(stories));
    let stories = &stories[..];
    let items: Vec<Value> = stories.iter().map(|s| item(s, meta.full_content)).collect();
    let mut feed = Map::new();
    feed.insert("version".into(), json!("https://jsonfeed.org/version/1.1"));
    feed.insert("title".into(), json!(meta.title));
    feed.insert("home_page_url".into(), json!(meta.home_url));
    feed.insert("feed_url".into(), json!(meta.self_url));
    if !meta.hubs.is_empty() {
        let hubs: Vec<Value> = meta
            .hubs
            .iter()
            .map(|url| json!({ "type": "WebSub", "url": url }))
            .collect();
        feed.insert("hubs".into(), Value::Array(hubs));
    }
    if !meta.description.is_empty() {
        feed.insert("description".into(), json!(meta.description));
    }
    feed.insert(
        "_feedsift".into(),
        json!({ "updated": rfc3339(newest_update(stories, meta.updated)) }),
    );
    feed.insert("items".into(), Value::Array(items));
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(feed)).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// `stories` as the feed's `items` render them, cleaned the same way: what webhooks send.
pub(crate) fn items(stories: &[Story], full_content: bool) -> Vec<Value> {
    clean_stories(stories)
        .iter()
        .map(|s| item(s, full_content))
        .collect()
}

fn item(story: &Story, full_content: bool) -> Value {
    let sightings: Vec<Value> = ranked_sightings(story)
        .into_iter()
        .map(|s| {
            json!({
                "site": s.site_name,
                "points": s.points,
                "comments": s.comments,
                "discussion_url": s.discussion_url,
                "first_seen": rfc3339(s.first_seen),
            })
        })
        .collect();
    let mut item = Map::new();
    item.insert("id".into(), json!(story.id.to_urn()));
    item.insert("url".into(), json!(story.url));
    item.insert("external_url".into(), json!(story.url));
    item.insert("title".into(), json!(story.title));
    item.insert("content_html".into(), json!(item_html(story, full_content)));
    item.insert("content_text".into(), json!(item_text(story)));
    if !story.summary.is_empty() {
        item.insert("summary".into(), json!(story.summary));
    }
    item.insert("date_published".into(), json!(rfc3339(story.published)));
    item.insert(
        "date_modified".into(),
        json!(rfc3339(story.entry_updated())),
    );
    if let Some(author) = &story.author {
        item.insert("authors".into(), json!([{ "name": author }]));
    }
    if !story.tags.is_empty() {
        item.insert("tags".into(), json!(story.tags));
    }
    item.insert(
        "_feedsift".into(),
        json!({ "points": story.top_points(), "sightings": sightings }),
    );
    Value::Object(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn items_follow_json_feed_1_1_with_sightings() {
        let stories = fixtures::stories();
        let feed: Value = serde_json::from_slice(&render(&fixtures::meta(), &stories)).unwrap();
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(
            feed["feed_url"],
            "http://127.0.0.1:8080/t/distributed-systems.rss"
        );
        let first = &feed["items"][0];
        assert_eq!(first["id"], stories[0].id.to_urn());
        assert_eq!(
            first["external_url"],
            "https://blog.example.org/posts/raft-in-practice"
        );
        assert_eq!(first["date_published"], "2026-11-19T08:00:00Z");
        assert_eq!(first["_feedsift"]["sightings"][0]["site"], "/r/programming");
        assert_eq!(first["_feedsift"]["sightings"][0]["points"], 426);
        assert_eq!(first["_feedsift"]["sightings"][1]["comments"], 41);
        assert_eq!(
            first["content_text"],
            "Five years of running Raft taught us a lot.\n\nSources: /r/programming 426 pts · Hacker News 225 pts (41 comments)"
        );
        assert!(!feed["items"][1]["content_html"]
            .as_str()
            .unwrap()
            .contains("<img"));
    }

    #[test]
    fn every_field_is_clean_and_content_html_escapes_the_text() {
        let bytes = render(&fixtures::meta(), &[fixtures::hostile_reddit()]);
        let feed: Value = serde_json::from_slice(&bytes).unwrap();
        let item = &feed["items"][0];
        assert_eq!(item["title"], fixtures::HOSTILE_TITLE);
        assert_eq!(item["url"], "https://example.org/raft-post");
        assert_eq!(item["authors"], json!([{ "name": "mallory" }]));
        assert_eq!(item["tags"], json!(fixtures::HOSTILE_TAGS));
        assert_eq!(item["summary"], fixtures::HOSTILE_SUMMARY);
        let html = item["content_html"].as_str().unwrap();
        assert!(
            html.starts_with(&format!("<p>{}</p>", fixtures::HOSTILE_SUMMARY_HTML)),
            "{html}"
        );
        assert_eq!(item["_feedsift"]["sightings"][0]["site"], "/r/programming");
        assert!(!String::from_utf8(bytes).unwrap().contains("\\u00"));
    }
}
