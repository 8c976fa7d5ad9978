//! Stories for renderer tests: one merged across two sites, one hostile.

use crate::model::{StoredSighting, Story, StoryId};
use crate::render::FeedMeta;
use chrono::{TimeZone, Utc};

pub fn meta() -> FeedMeta {
    FeedMeta {
        title: "Distributed Systems".into(),
        description: "Consensus & fault tolerance".into(),
        home_url: "http://127.0.0.1:8080/t/distributed-systems".into(),
        self_url: "http://127.0.0.1:8080/t/distributed-systems.rss".into(),
        updated: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        full_content: false,
    }
}

fn sighting(
    site: &str,
    name: &str,
    points: Option<i64>,
    comments: Option<i64>,
    url: &str,
) -> StoredSighting {
    StoredSighting {
        site: site.into(),
        site_name: name.into(),
        item_id: None,
        points,
        comments,
        discussion_url: Some(url.into()),
        first_seen: Utc.with_ymd_and_hms(2026, 11, 19, 8, 0, 0).unwrap(),
    }
}

pub fn stories() -> Vec<Story> {
    let raft_url = "https://blog.example.org/posts/raft-in-practice";
    let raft = Story {
        id: StoryId::from_canonical_url(raft_url),
        canonical_url: raft_url.into(),
        url: raft_url.into(),
        title: "Raft in Practice".into(),
        summary: "Five years of running Raft taught us a lot.".into(),
        content_html: None,
        author: Some("Ada".into()),
        published: Utc.with_ymd_and_hms(2026, 11, 19, 8, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        revised: None,
        tags: vec!["distributed".into()],
        sources: vec!["hn".into(), "reddit".into()],
        sightings: vec![
            sighting(
                "hackernews",
                "Hacker News",
                Some(225),
                Some(41),
                "https://news.ycombinator.com/item?id=1",
            ),
            sighting(
                "reddit:/r/programming",
                "/r/programming",
                Some(426),
                Some(0),
                "https://www.reddit.com/r/programming/comments/x/",
            ),
        ],
        article: None,
    };
    let hostile_url = "https://evil.example/?a=1&b=2";
    let hostile = Story {
        id: StoryId::from_canonical_url(hostile_url),
        canonical_url: hostile_url.into(),
        url: hostile_url.into(),
        title: "</title><script>alert(1)</script> ]]> & \u{1}".into(),
        summary: "<img src=x onerror=alert(1)> ]]>".into(),
        content_html: None,
        author: None,
        published: Utc.with_ymd_and_hms(2026, 11, 18, 8, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).unwrap(),
        revised: None,
        tags: vec!["<b>tag</b>".into()],
        sources: vec!["feed".into()],
        sightings: vec![StoredSighting {
            discussion_url: None,
            ..sighting("feed:blog", "Some \"Blog\"", None, None, "")
        }],
        article: None,
    };
    vec![raft, hostile]
}
