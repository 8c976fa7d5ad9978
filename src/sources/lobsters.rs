//! Adapter for Lobsters JSON: a story array (`/hottest.json`, `/t/<tag>.json`) or a single
//! story (`/s/<id>.json`, comments ignored). Text posts (empty `url`) are self posts.

use super::site_json::{self, count, decode, describe, invalid, read_document, record};
use super::{Parsed, SourceContext, SourceError};
use crate::model::Sighting;
use crate::normalize::bounds::{raw_prefix, RAW_TEXT_BYTES};
use crate::normalize::{clean_title, html_to_text, parse_http_url};
use serde::Deserialize;
use serde_json::Value;

const FORMAT: &str = "Lobsters JSON";
const SITE: &str = super::registry::LOBSTERS.name;
const SITE_NAME: &str = super::registry::LOBSTERS.display_name;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Story {
    short_id: Option<String>,
    short_id_url: Option<String>,
    comments_url: Option<String>,
    created_at: Option<String>,
    title: Option<String>,
    url: Option<String>,
    #[serde(deserialize_with = "count")]
    score: Option<i64>,
    #[serde(deserialize_with = "count")]
    comment_count: Option<i64>,
    /// HTML.
    description: Option<String>,
    /// An object `{username, ...}` in captures before ~2023, a plain name after.
    #[serde(deserialize_with = "site_json::user_name")]
    submitter_user: Option<String>,
    #[serde(deserialize_with = "site_json::tag_list")]
    tags: Vec<String>,
}

pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    let doc = read_document(FORMAT, body)?;
    let mut parsed = Parsed::default();
    match &doc {
        Value::Array(stories) => {
            for (index, story) in stories.iter().enumerate() {
                record(&mut parsed, sighting(ctx, story, index));
            }
        }
        Value::Object(map) if map.contains_key("short_id") => {
            record(&mut parsed, sighting(ctx, &doc, 0));
        }
        other => {
            return Err(invalid(
                FORMAT,
                format!(
                    "expected an array of stories or a story object (with short_id), found {}",
                    describe(other)
                ),
            ))
        }
    }
    Ok(parsed)
}

fn sighting(ctx: &SourceContext, raw: &Value, index: usize) -> Result<Sighting, String> {
    let story: Story = decode(raw).map_err(|e| format!("entry {index}: {e}"))?;
    let short_id = site_json::non_empty(story.short_id)
        .ok_or_else(|| format!("entry {index}: no short_id, not a story"))?;
    let title = clean_title(story.title.as_deref().unwrap_or_default());
    if title.is_empty() {
        return Err(format!("story {short_id}: no title"));
    }
    let discussion = [story.comments_url, story.short_id_url]
        .into_iter()
        .flatten()
        .find_map(|u| parse_http_url(&u, Some(ctx.url)).ok());
    let link = story.url.as_deref().map(str::trim).unwrap_or_default();
    let (url, is_self_post) = if link.is_empty() {
        let own = discussion
            .as_ref()
            .ok_or_else(|| format!("story {short_id}: text post without a comments URL"))?;
        (own.to_string(), true)
    } else {
        let url = parse_http_url(link, None)
            .map_err(|e| format!("story {short_id}: unusable url: {e}"))?;
        (url.to_string(), false)
    };
    Ok(Sighting {
        source: ctx.source.id.clone(),
        site: SITE.to_string(),
        site_name: SITE_NAME.to_string(),
        item_id: Some(short_id),
        url,
        title,
        text: story
            .description
            .as_deref()
            .map(|d| html_to_text(raw_prefix(d, RAW_TEXT_BYTES)))
            .unwrap_or_default(),
        html: story.description.clone().filter(|h| !h.trim().is_empty()),
        author: story.submitter_user,
        tags: story.tags,
        points: story.score,
        comments: story.comment_count,
        discussion_url: discussion.map(|u| u.to_string()),
        published: story
            .created_at
            .as_deref()
            .and_then(site_json::from_rfc3339),
        fetched_at: ctx.fetched_at,
        is_self_post,
    })
}

#[cfg(test)]
mod tests {
    use super::super::site_json::testing::{self, with};
    use super::*;
    use crate::sources::SourceKind;
    use serde_json::json;

    fn run(doc: &Value) -> Result<Parsed, SourceError> {
        let kind = SourceKind::Lobsters { tag: None };
        testing::run(parse, kind, doc.to_string().as_bytes())
    }

    fn story(extra: Value) -> Value {
        let base = json!({
            "short_id": "x7kqpa", "short_id_url": "https://lobste.rs/s/x7kqpa",
            "created_at": "2026-11-12T09:15:00.000-06:00", "title": "Fault tolerance in practice",
            "url": "https://example.net/ft", "score": 31, "flags": 0, "comment_count": 9,
            "description": "", "description_plain": "",
            "comments_url": "https://lobste.rs/s/x7kqpa/fault_tolerance_practice",
            "submitter_user": "alice", "user_is_author": false, "tags": ["distributed", "practices"]
        });
        with(base, &extra)
    }

    const COMMENTS: &str = "https://lobste.rs/s/x7kqpa/fault_tolerance_practice";
    const ARTICLE: &str = "https://example.net/ft";

    #[test]
    fn stories_become_sightings() {
        let short = "https://lobste.rs/s/x7kqpa";
        let object_user = json!({"username": "bob", "karma": 10, "is_admin": false});
        #[rustfmt::skip]
        let cases = [
            // (extra fields, url, self post, author, discussion)
            (json!({}), ARTICLE, false, Some("alice"), COMMENTS),
            (json!({"submitter_user": object_user}), ARTICLE, false, Some("bob"), COMMENTS),
            (json!({"submitter_user": null}), ARTICLE, false, None, COMMENTS),
            (json!({"url": ""}), COMMENTS, true, Some("alice"), COMMENTS),
            (json!({"url": null, "comments_url": null}), short, true, Some("alice"), short),
        ];
        for (extra, url, is_self, author, discussion) in cases {
            let parsed = run(&json!([story(extra.clone())])).unwrap();
            assert!(parsed.skipped.is_empty(), "{extra}: {:?}", parsed.skipped);
            let s = &parsed.sightings[0];
            assert_eq!((s.url.as_str(), s.is_self_post), (url, is_self), "{extra}");
            assert_eq!(s.author.as_deref(), author, "{extra}");
            assert_eq!(s.discussion_url.as_deref(), Some(discussion), "{extra}");
            assert_eq!(
                (s.site.as_str(), s.site_name.as_str()),
                ("lobsters", "Lobsters")
            );
            assert_eq!((s.points, s.comments), (Some(31), Some(9)));
            assert_eq!(s.tags, vec!["distributed", "practices"]);
            assert_eq!(s.item_id.as_deref(), Some("x7kqpa"));
            let published = s.published.map(|t| t.to_rfc3339());
            assert_eq!(published.as_deref(), Some("2026-11-12T15:15:00+00:00"));
        }
        let ask = run(&json!([story(
            json!({"url": "", "description": "<p>Raft &amp; Paxos?</p>"})
        )]));
        assert_eq!(ask.unwrap().sightings[0].text, "Raft & Paxos?");
    }

    #[test]
    fn single_story_with_comments() {
        let mut doc = story(json!({"score": null}));
        doc["comments"] = json!([{"short_id": "c1", "comment": "<p>great</p>", "score": 4}]);
        let parsed = run(&doc).unwrap();
        assert_eq!(parsed.sightings.len(), 1);
        assert_eq!(parsed.sightings[0].points, None);
    }

    #[test]
    fn unusable_entries_are_skipped() {
        let doc = json!([
            story(json!({"url": "/s/relative"})),
            story(json!({"url": "ftp://example.net/file"})),
            story(json!({"title": "  "})),
            {"tag": "rust", "description": "Rust programming", "privileged": false},
            story(json!({"url": "", "comments_url": null, "short_id_url": null})),
            story(json!({"short_id": "ok1234"})),
        ]);
        let parsed = run(&doc).unwrap();
        assert_eq!(parsed.sightings.len(), 1);
        assert_eq!(parsed.skipped.len(), 5, "{:?}", parsed.skipped);
        assert!(
            parsed.skipped[3].contains("not a story"),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn invalid_documents_are_errors() {
        let bodies = ["[{]", r#""hottest""#, r#"{"error": "not found"}"#];
        testing::assert_invalid(parse, FORMAT, &bodies);
    }
}
