//! Adapter for Hacker News through the Algolia API: a search response (`{hits: [...]}`),
//! a single `items/<id>` object or a single hit. Stories without a URL (Ask HN, polls) are
//! self posts; comments are skipped.

use super::site_json::{self, count, decode, describe, id, invalid, read_document, record};
use super::{Parsed, SourceContext, SourceError};
use crate::model::Sighting;
use crate::normalize::bounds::{raw_prefix, RAW_TEXT_BYTES};
use crate::normalize::{clean_title, collapse_whitespace, html_to_text, parse_http_url};
use serde::Deserialize;
use serde_json::Value;

const FORMAT: &str = "Hacker News Algolia JSON";
const SITE: &str = super::registry::HACKERNEWS.name;
const SITE_NAME: &str = super::registry::HACKERNEWS.display_name;
const ITEM_URL: &str = "https://news.ycombinator.com/item?id=";

/// A search hit, or an `items/<id>` object (which says `id`, `text` and `type` instead of
/// `objectID`, `story_text` and `_tags`, and carries the comment tree in `children`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct AlgoliaItem {
    #[serde(rename = "objectID", deserialize_with = "id")]
    object_id: Option<String>,
    #[serde(deserialize_with = "id")]
    id: Option<String>,
    #[serde(rename = "type")]
    item_type: Option<String>,
    #[serde(rename = "_tags")]
    algolia_tags: Option<Vec<String>>,
    title: Option<String>,
    url: Option<String>,
    author: Option<String>,
    #[serde(deserialize_with = "count")]
    points: Option<i64>,
    #[serde(deserialize_with = "count")]
    num_comments: Option<i64>,
    story_text: Option<String>,
    text: Option<String>,
    comment_text: Option<String>,
    #[serde(deserialize_with = "site_json::unix_seconds")]
    created_at_i: Option<f64>,
    created_at: Option<String>,
}

pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    let doc = read_document(FORMAT, body)?;
    let mut parsed = Parsed::default();
    match &doc {
        Value::Object(map) if map.contains_key("hits") => {
            let hits = map.get("hits").and_then(Value::as_array);
            let hits = hits.ok_or_else(|| invalid(FORMAT, "\"hits\" is not an array"))?;
            for (index, hit) in hits.iter().enumerate() {
                record(&mut parsed, sighting(ctx, hit, index));
            }
        }
        Value::Object(map) if map.contains_key("objectID") || map.contains_key("id") => {
            record(&mut parsed, sighting(ctx, &doc, 0));
        }
        other => {
            return Err(invalid(
                FORMAT,
                format!(
                    "expected a search response {{\"hits\": [...]}} or an item object, found {}",
                    describe(other)
                ),
            ))
        }
    }
    Ok(parsed)
}

fn sighting(ctx: &SourceContext, raw: &Value, index: usize) -> Result<Sighting, String> {
    let item: AlgoliaItem = decode(raw).map_err(|e| format!("hit {index}: {e}"))?;
    let item_id = item
        .object_id
        .clone()
        .or_else(|| item.id.clone())
        .ok_or_else(|| format!("hit {index}: no objectID or id"))?;
    if is_comment(&item) {
        return Err(format!("item {item_id}: a comment, not a story"));
    }
    let title = clean_title(item.title.as_deref().unwrap_or_default());
    if title.is_empty() {
        return Err(format!("item {item_id}: no title"));
    }
    let discussion = format!("{ITEM_URL}{item_id}");
    let link = item.url.as_deref().map(str::trim).unwrap_or_default();
    let (url, is_self_post) = if link.is_empty() {
        (discussion.clone(), true)
    } else {
        let url =
            parse_http_url(link, None).map_err(|e| format!("item {item_id}: unusable url: {e}"))?;
        (url.to_string(), false)
    };
    let body = item.story_text.as_deref().or(item.text.as_deref());
    // An items/<id> object has no count; its comment tree does (search hits list only ids).
    let comments = item
        .num_comments
        .or_else(|| raw.get("children").and_then(count_comments));
    let published = item
        .created_at_i
        .and_then(site_json::from_unix_seconds)
        .or_else(|| item.created_at.as_deref().and_then(site_json::from_rfc3339));
    Ok(Sighting {
        source: ctx.source.id.clone(),
        site: SITE.to_string(),
        site_name: SITE_NAME.to_string(),
        item_id: Some(item_id),
        url,
        title,
        text: body
            .map(|b| html_to_text(raw_prefix(b, RAW_TEXT_BYTES)))
            .unwrap_or_default(),
        html: body.map(str::to_string).filter(|h| !h.trim().is_empty()),
        author: site_json::non_empty(item.author.as_deref().map(collapse_whitespace)),
        tags: Vec::new(),
        points: item.points,
        comments,
        discussion_url: Some(discussion),
        published,
        fetched_at: ctx.fetched_at,
        is_self_post,
    })
}

fn is_comment(item: &AlgoliaItem) -> bool {
    let tagged = |t: &str| {
        item.algolia_tags
            .as_ref()
            .is_some_and(|tags| tags.iter().any(|x| x == t))
    };
    matches!(item.item_type.as_deref(), Some("comment" | "pollopt"))
        || tagged("comment")
        || item.comment_text.is_some()
}

/// Comments in an `items/<id>` tree, not counting deleted ones (those have no author);
/// `None` when `children` is not a tree of comment objects.
fn count_comments(children: &Value) -> Option<i64> {
    let tree = children.as_array()?;
    if !tree.iter().all(Value::is_object) {
        return None;
    }
    let mut pending = vec![children];
    let mut total = 0;
    while let Some(level) = pending.pop() {
        for child in level.as_array().into_iter().flatten() {
            if child.get("author").is_some_and(Value::is_string) {
                total += 1;
            }
            if let Some(grandchildren) = child.get("children") {
                pending.push(grandchildren);
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::super::site_json::testing::{self, with};
    use super::*;
    use crate::sources::SourceKind;
    use serde_json::json;

    fn run(doc: &Value) -> Result<Parsed, SourceError> {
        testing::run(parse, SourceKind::HackerNews, doc.to_string().as_bytes())
    }

    fn hit(extra: Value) -> Value {
        let base = json!({
            "objectID": "4100", "title": "Paxos Made Simple", "url": "https://example.com/paxos",
            "author": "lamport", "points": 120, "num_comments": 33, "story_text": null,
            "created_at": "2026-11-10T08:00:00.000Z", "created_at_i": 1794297600,
            "_tags": ["story", "author_lamport", "story_4100", "front_page"]
        });
        with(base, &extra)
    }

    const ARTICLE: &str = "https://example.com/paxos";
    const ITEM: &str = "https://news.ycombinator.com/item?id=4100";

    #[test]
    fn search_hits_become_sightings() {
        let ask_text = "<p>Which one &amp; why?</p>";
        #[rustfmt::skip]
        let cases = [
            // (extra fields, expected url, self post, points, comments)
            (json!({}), ARTICLE, false, Some(120), Some(33)),
            (json!({"url": null, "story_text": ask_text}), ITEM, true, Some(120), Some(33)),
            (json!({"url": ""}), ITEM, true, Some(120), Some(33)),
            (json!({"points": null, "num_comments": null}), ARTICLE, false, None, None),
            (json!({"num_comments": null, "children": [4101]}), ARTICLE, false, Some(120), None),
        ];
        for (extra, url, is_self, points, comments) in cases {
            let parsed = run(&json!({"hits": [hit(extra.clone())], "nbHits": 1})).unwrap();
            assert_eq!(parsed.skipped, Vec::<String>::new(), "{extra}");
            let s = &parsed.sightings[0];
            assert_eq!((s.url.as_str(), s.is_self_post), (url, is_self), "{extra}");
            assert_eq!((s.points, s.comments), (points, comments), "{extra}");
            assert_eq!((s.site.as_str(), s.site_name.as_str()), (SITE, SITE_NAME));
            assert_eq!(
                (s.source.as_str(), s.item_id.as_deref()),
                ("test", Some("4100"))
            );
            assert_eq!(s.discussion_url.as_deref(), Some(ITEM));
            assert_eq!(s.published.map(|t| t.timestamp()), Some(1794297600));
        }
        let ask = run(&json!({"hits": [hit(json!({"url": null, "story_text": ask_text}))]}));
        assert_eq!(ask.unwrap().sightings[0].text, "Which one & why?");
    }

    #[test]
    fn unusable_hits_are_skipped_not_fatal() {
        let doc = json!({"hits": [
            hit(json!({"url": "/relative/path"})),
            hit(json!({"url": "javascript:alert(1)"})),
            hit(json!({"title": null, "url": null, "comment_text": "I agree", "_tags": ["comment"]})),
            hit(json!({"title": ""})),
            hit(json!({"objectID": null})),
            // A count of an odd type is just unknown; a title of the wrong type spoils the hit.
            hit(json!({"points": {"nested": true}, "objectID": "4101"})),
            hit(json!({"title": 42, "objectID": "4103"})),
            hit(json!({"objectID": "4102"})),
        ]});
        let parsed = run(&doc).unwrap();
        assert_eq!(parsed.sightings.len(), 2, "{:?}", parsed.skipped);
        assert_eq!(parsed.skipped.len(), 6, "{:?}", parsed.skipped);
        let reasons = parsed.skipped.join(" | ");
        assert!(parsed.skipped[0].contains("unusable url"), "{reasons}");
        assert!(parsed.skipped[2].contains("comment"), "{reasons}");
    }

    #[test]
    fn item_object_counts_its_comment_tree() {
        let doc = json!({
            "id": 8828543, "created_at": "2026-11-02T21:05:46.000Z", "created_at_i": null,
            "type": "story", "author": "dkua", "title": "Why not SSH for everything?",
            "url": "https://example.com/ssh", "text": "", "points": 270, "parent_id": null,
            "children": [
                {"id": 1, "author": "a", "type": "comment", "children": [
                    {"id": 2, "author": "b", "type": "comment", "children": []},
                    {"id": 3, "author": null, "type": "comment", "children": []}]},
                {"id": 4, "author": "c", "type": "comment", "children": []}
            ]
        });
        let parsed = run(&doc).unwrap();
        let s = &parsed.sightings[0];
        assert_eq!(s.item_id.as_deref(), Some("8828543"));
        assert_eq!((s.points, s.comments), (Some(270), Some(3)));
        let published = s.published.map(|t| t.to_rfc3339());
        assert_eq!(published.as_deref(), Some("2026-11-02T21:05:46+00:00"));
        let comment = json!({"id": 17, "type": "comment", "text": "<p>hi</p>", "author": "pg"});
        assert_eq!(run(&comment).unwrap().sightings.len(), 0);
    }

    #[test]
    fn invalid_documents_are_errors() {
        #[rustfmt::skip]
        let bodies = [r#"{"hits": [}"#, "<html>", "[1, 2]", r#"{"hits": 3}"#, r#"{"message": "rate limited"}"#];
        testing::assert_invalid(parse, FORMAT, &bodies);
    }
}
