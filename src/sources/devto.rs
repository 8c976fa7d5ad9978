//! Adapter for the Dev.to (Forem) articles API: an article array (`/api/articles`) or a single
//! article (`/api/articles/<id>`). A `canonical_url` off dev.to is the article; else its dev.to page.

use super::site_json::{self, count, decode, describe, id, invalid, read_document, record};
use super::{Parsed, SourceContext, SourceError};
use crate::model::Sighting;
use crate::normalize::{clean_title, collapse_whitespace, parse_http_url};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

const FORMAT: &str = "Dev.to articles JSON";
const SITE: &str = super::registry::DEVTO.name;
const SITE_NAME: &str = super::registry::DEVTO.display_name;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Article {
    #[serde(deserialize_with = "id")]
    id: Option<String>,
    title: Option<String>,
    /// Plain text.
    description: Option<String>,
    url: Option<String>,
    canonical_url: Option<String>,
    #[serde(deserialize_with = "count")]
    public_reactions_count: Option<i64>,
    #[serde(deserialize_with = "count")]
    positive_reactions_count: Option<i64>,
    #[serde(deserialize_with = "count")]
    comments_count: Option<i64>,
    /// An array in list responses, a comma-separated string in single-article ones;
    /// `tags` is the other way round.
    #[serde(deserialize_with = "site_json::tag_list")]
    tag_list: Vec<String>,
    #[serde(deserialize_with = "site_json::tag_list")]
    tags: Vec<String>,
    published_at: Option<String>,
    published_timestamp: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct User {
    name: Option<String>,
    username: Option<String>,
}

pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    let doc = read_document(FORMAT, body)?;
    let mut parsed = Parsed::default();
    match &doc {
        Value::Array(articles) => {
            for (index, article) in articles.iter().enumerate() {
                record(&mut parsed, sighting(ctx, article, index));
            }
        }
        Value::Object(map) if map.contains_key("id") && map.contains_key("title") => {
            record(&mut parsed, sighting(ctx, &doc, 0));
        }
        other => {
            return Err(invalid(
                FORMAT,
                format!(
                    "expected an array of articles or an article object, found {}",
                    describe(other)
                ),
            ))
        }
    }
    Ok(parsed)
}

fn sighting(ctx: &SourceContext, raw: &Value, index: usize) -> Result<Sighting, String> {
    let article: Article = decode(raw).map_err(|e| format!("entry {index}: {e}"))?;
    let item_id = article
        .id
        .clone()
        .ok_or_else(|| format!("entry {index}: no id, not an article"))?;
    let title = clean_title(article.title.as_deref().unwrap_or_default());
    if title.is_empty() {
        return Err(format!("article {item_id}: no title"));
    }
    let page = usable(article.url.as_deref());
    let canonical = usable(article.canonical_url.as_deref()).filter(|u| !on_devto(u));
    let url = canonical
        .or_else(|| page.clone())
        .ok_or_else(|| format!("article {item_id}: no usable url or canonical_url"))?;
    let author = article.user.and_then(|u| {
        site_json::non_empty(u.name.as_deref().map(collapse_whitespace))
            .or_else(|| site_json::non_empty(u.username))
    });
    let tags = if article.tag_list.is_empty() {
        article.tags
    } else {
        article.tag_list
    };
    let published = [article.published_at, article.published_timestamp]
        .iter()
        .flatten()
        .find_map(|t| site_json::from_rfc3339(t));
    Ok(Sighting {
        source: ctx.source.id.clone(),
        site: SITE.to_string(),
        site_name: SITE_NAME.to_string(),
        item_id: Some(item_id),
        url: url.to_string(),
        title,
        text: article
            .description
            .as_deref()
            .map(collapse_whitespace)
            .unwrap_or_default(),
        author,
        tags,
        html: None,
        points: article
            .public_reactions_count
            .or(article.positive_reactions_count),
        comments: article.comments_count,
        discussion_url: page.map(|u| u.to_string()),
        published,
        fetched_at: ctx.fetched_at,
        is_self_post: false,
    })
}

fn usable(raw: Option<&str>) -> Option<Url> {
    raw.filter(|r| !r.trim().is_empty())
        .and_then(|r| parse_http_url(r, None).ok())
}

fn on_devto(url: &Url) -> bool {
    url.host_str()
        .map(|h| h.to_ascii_lowercase())
        .is_some_and(|h| h == "dev.to" || h.ends_with(".dev.to"))
}

#[cfg(test)]
mod tests {
    use super::super::site_json::testing::{self, with};
    use super::*;
    use crate::sources::SourceKind;
    use serde_json::json;

    fn run(body: &str) -> Result<Parsed, SourceError> {
        testing::run(parse, SourceKind::Devto { tag: None }, body.as_bytes())
    }

    fn article(extra: Value) -> Value {
        let base = json!({
            "type_of": "article", "id": 2048001, "title": "Replication lag, explained",
            "description": "Why   your read replica is behind.", "readable_publish_date": "Nov 14",
            "url": "https://dev.to/kim/replication-lag-explained-4k2p",
            "canonical_url": "https://dev.to/kim/replication-lag-explained-4k2p",
            "comments_count": 6, "public_reactions_count": 48, "positive_reactions_count": 48,
            "published_at": "2026-11-14T10:00:00Z", "tag_list": ["database", "distributed"],
            "tags": "database, distributed", "user": {"name": "Kim Lee", "username": "kim"}
        });
        with(base, &extra)
    }

    const PAGE: &str = "https://dev.to/kim/replication-lag-explained-4k2p";
    const OFF_SITE: &str = "https://kim.example/replication-lag";

    #[test]
    fn articles_become_sightings() {
        let both = vec!["database", "distributed"];
        #[rustfmt::skip]
        let cases = [
            // (extra fields, url, points, tags)
            (json!({}), PAGE, Some(48), both.clone()),
            (json!({"canonical_url": OFF_SITE}), OFF_SITE, Some(48), both.clone()),
            (json!({"canonical_url": "https://DEV.to/kim/other"}), PAGE, Some(48), both.clone()),
            (json!({"canonical_url": "not a url"}), PAGE, Some(48), both.clone()),
            (json!({"canonical_url": null}), PAGE, Some(48), both.clone()),
            (json!({"tag_list": "go, opensource", "tags": ["go"]}), PAGE, Some(48), vec!["go", "opensource"]),
            (json!({"tag_list": [], "tags": "rust"}), PAGE, Some(48), vec!["rust"]),
            (json!({"public_reactions_count": null, "positive_reactions_count": 7}), PAGE, Some(7), both.clone()),
            (json!({"public_reactions_count": null, "positive_reactions_count": null}), PAGE, None, both.clone()),
        ];
        for (extra, url, points, tags) in cases {
            let body = json!([article(extra.clone())]).to_string();
            let parsed = run(&body).unwrap();
            assert!(parsed.skipped.is_empty(), "{extra}: {:?}", parsed.skipped);
            let s = &parsed.sightings[0];
            assert_eq!(s.url, url, "{extra}");
            assert_eq!(s.points, points, "{extra}");
            assert_eq!(s.tags, tags, "{extra}");
            assert_eq!(s.discussion_url.as_deref(), Some(PAGE));
            assert_eq!((s.site.as_str(), s.site_name.as_str()), ("devto", "Dev.to"));
            assert_eq!(s.item_id.as_deref(), Some("2048001"));
            assert_eq!(s.author.as_deref(), Some("Kim Lee"));
            assert_eq!(s.text, "Why your read replica is behind.");
            assert_eq!(s.comments, Some(6));
            assert!(!s.is_self_post);
        }
    }

    #[test]
    fn single_article_object() {
        let body = article(
            json!({"tag_list": "go, api", "body_html": "<p>x</p>", "published_at": null,
            "published_timestamp": "2026-11-03T08:00:00Z", "user": {"name": null, "username": "kim"}}),
        );
        let parsed = run(&body.to_string()).unwrap();
        let s = &parsed.sightings[0];
        assert_eq!(s.tags, vec!["go", "api"]);
        assert_eq!(s.author.as_deref(), Some("kim"));
        assert_eq!(
            s.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-03T08:00:00+00:00")
        );
    }

    #[test]
    fn unusable_entries_are_skipped() {
        let doc = json!([
            article(json!({"url": "/kim/relative", "canonical_url": "/kim/relative"})),
            article(json!({"id": null})),
            article(json!({"title": null})),
            article(json!({"url": null, "canonical_url": "https://kim.example/x"})),
        ]);
        let parsed = run(&doc.to_string()).unwrap();
        assert_eq!(parsed.skipped.len(), 3, "{:?}", parsed.skipped);
        assert_eq!(parsed.sightings[0].url, "https://kim.example/x");
        assert_eq!(parsed.sightings[0].discussion_url, None);
    }

    #[test]
    fn invalid_documents_are_errors() {
        let bodies = ["[", "null", r#"{"error": "not found", "status": 404}"#];
        testing::assert_invalid(parse, FORMAT, &bodies);
    }
}
