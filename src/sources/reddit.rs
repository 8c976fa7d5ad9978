//! Adapter for Reddit JSON: a Listing, an array of Listings (a comments page) or a single
//! `t3` thing. Posts (`t3`) become sightings; comments and other things are skipped, and
//! so are NSFW posts unless the source sets `include_nsfw`.

use super::site_json::{self, count, decode, describe, id, invalid, read_document, record};
use super::{Parsed, SourceContext, SourceError};
use crate::model::Sighting;
use crate::normalize::text::paragraphs;
use crate::normalize::{clean_title, parse_http_url};
use crate::sources::SourceKind;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

const FORMAT: &str = "Reddit listing JSON";
const SITE_ROOT: &str = "https://www.reddit.com";

/// The `data` of a `t3` thing (a post).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Post {
    #[serde(deserialize_with = "id")]
    id: Option<String>,
    name: Option<String>,
    title: Option<String>,
    url: Option<String>,
    permalink: Option<String>,
    #[serde(deserialize_with = "count")]
    score: Option<i64>,
    #[serde(deserialize_with = "count")]
    num_comments: Option<i64>,
    #[serde(deserialize_with = "site_json::unix_seconds")]
    created_utc: Option<f64>,
    is_self: Option<bool>,
    selftext: Option<String>,
    subreddit: Option<String>,
    over_18: Option<bool>,
    author: Option<String>,
}

pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    let doc = read_document(FORMAT, body)?;
    let mut parsed = Parsed::default();
    match &doc {
        Value::Array(things) => {
            for thing in things {
                visit(ctx, thing, &mut parsed)?;
            }
        }
        Value::Object(_) => visit(ctx, &doc, &mut parsed)?,
        other => return Err(shape_error(other)),
    }
    Ok(parsed)
}

fn shape_error(found: &Value) -> SourceError {
    invalid(
        FORMAT,
        format!(
            "expected a Listing, an array of Listings or a t3 thing ({{\"kind\": ..., \"data\": ...}}), found {}",
            describe(found)
        ),
    )
}

/// A top-level thing: a Listing (whose children are visited) or a single thing.
fn visit(ctx: &SourceContext, thing: &Value, parsed: &mut Parsed) -> Result<(), SourceError> {
    match thing.get("kind").and_then(Value::as_str) {
        Some("Listing") => {
            let children = thing
                .get("data")
                .and_then(|d| d.get("children"))
                .and_then(Value::as_array)
                .ok_or_else(|| invalid(FORMAT, "Listing without a data.children array"))?;
            for (index, child) in children.iter().enumerate() {
                record(parsed, child_sighting(ctx, child, index));
            }
            Ok(())
        }
        Some(_) => {
            record(parsed, child_sighting(ctx, thing, 0));
            Ok(())
        }
        None => Err(shape_error(thing)),
    }
}

fn child_sighting(ctx: &SourceContext, thing: &Value, index: usize) -> Result<Sighting, String> {
    let name = thing
        .pointer("/data/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match thing.get("kind").and_then(Value::as_str) {
        Some("t3") => {}
        Some("t1") => return Err(format!("child {index} {name}: a comment (t1), not a post")),
        Some(kind) => return Err(format!("child {index} {name}: kind {kind}, not a post")),
        None => return Err(format!("child {index}: no kind")),
    }
    let data = thing.get("data").unwrap_or(&Value::Null);
    let post: Post = decode(data).map_err(|e| format!("child {index}: {e}"))?;
    let from_name = || {
        post.name
            .as_deref()
            .map(|n| n.trim_start_matches("t3_").to_string())
    };
    let id = post.id.clone().or_else(from_name);
    let id = id.ok_or_else(|| format!("child {index}: post without id"))?;
    let (include_nsfw, configured) = match &ctx.source.kind {
        SourceKind::Reddit {
            include_nsfw,
            subreddit,
            ..
        } => (*include_nsfw, Some(subreddit.clone())),
        _ => (false, None),
    };
    if post.over_18 == Some(true) && !include_nsfw {
        return Err(format!("post {id}: NSFW (over_18) and include_nsfw is off"));
    }
    let title = clean_title(post.title.as_deref().unwrap_or_default());
    if title.is_empty() {
        return Err(format!("post {id}: no title"));
    }
    let discussion = post.permalink.as_deref().and_then(discussion_url);
    // Without raw_json=1 Reddit escapes `&` in every string, URLs included.
    let link = post
        .url
        .as_deref()
        .unwrap_or_default()
        .trim()
        .replace("&amp;", "&");
    let is_self_post = post.is_self == Some(true)
        || link.is_empty()
        || discussion.as_ref().is_some_and(|d| same_page(&link, d));
    let url = if is_self_post {
        let own = discussion.as_ref().map(Url::to_string);
        own.ok_or_else(|| format!("post {id}: self post without a permalink"))?
    } else {
        let url =
            parse_http_url(&link, None).map_err(|e| format!("post {id}: unusable url: {e}"))?;
        url.to_string()
    };
    let (site, site_name) = match site_json::non_empty(post.subreddit).or(configured) {
        Some(sub) => (
            format!("reddit:/r/{}", sub.to_lowercase()),
            format!("/r/{sub}"),
        ),
        None => (
            super::registry::REDDIT.name.to_string(),
            super::registry::REDDIT.display_name.to_string(),
        ),
    };
    Ok(Sighting {
        source: ctx.source.id.clone(),
        site,
        site_name,
        item_id: Some(id),
        url,
        title,
        text: plain_text(post.selftext.as_deref().unwrap_or_default()),
        html: None,
        author: site_json::non_empty(post.author).filter(|a| a != "[deleted]"),
        tags: Vec::new(),
        points: post.score,
        comments: post.num_comments,
        discussion_url: discussion.map(|d| d.to_string()),
        published: post.created_utc.and_then(site_json::from_unix_seconds),
        fetched_at: ctx.fetched_at,
        is_self_post,
    })
}

/// `https://www.reddit.com` + the permalink (which is normally site-relative).
fn discussion_url(permalink: &str) -> Option<Url> {
    let root = Url::parse(SITE_ROOT).ok()?;
    parse_http_url(permalink, Some(&root)).ok()
}

/// Whether `link` is the post's own comments page (how link-less posts point at themselves).
fn same_page(link: &str, discussion: &Url) -> bool {
    let on_reddit = |u: &Url| {
        let host = u.host_str().unwrap_or_default();
        host == "reddit.com" || host.ends_with(".reddit.com")
    };
    let path = |u: &Url| u.path().trim_end_matches('/').to_string();
    discussion
        .join(link)
        .is_ok_and(|l| on_reddit(&l) && on_reddit(discussion) && path(&l) == path(discussion))
}

/// Self text is markdown-ish plain text (entity-escaped unless raw_json=1): decode the
/// entities and keep paragraphs.
fn plain_text(selftext: &str) -> String {
    let decoded = html_escape::decode_html_entities(selftext);
    paragraphs(&decoded.replace("\r\n", "\n")).join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::super::site_json::testing::{self, with};
    use super::*;
    use serde_json::json;

    fn run_with(include_nsfw: bool, doc: &Value) -> Result<Parsed, SourceError> {
        let kind = SourceKind::Reddit {
            subreddit: "programming".into(),
            listing: "top".into(),
            period: Some("week".into()),
            include_nsfw,
        };
        testing::run(parse, kind, doc.to_string().as_bytes())
    }

    fn run(doc: &Value) -> Result<Parsed, SourceError> {
        run_with(false, doc)
    }

    fn t3(extra: Value) -> Value {
        let data = json!({
            "id": "1gq2x7", "name": "t3_1gq2x7", "title": "Understanding the CAP theorem &amp; its limits",
            "url": "https://example.com/cap", "permalink": "/r/programming/comments/1gq2x7/understanding_cap/",
            "score": 512, "num_comments": 97, "created_utc": 1794000000.5, "is_self": false,
            "selftext": "", "subreddit": "programming", "over_18": false, "author": "eric",
            "thumbnail": "default", "stickied": false
        });
        json!({"kind": "t3", "data": with(data, &extra)})
    }

    fn listing(children: Vec<Value>) -> Value {
        json!({"kind": "Listing", "data": {"after": null, "dist": children.len(), "children": children}})
    }

    const PERMALINK: &str =
        "https://www.reddit.com/r/programming/comments/1gq2x7/understanding_cap/";
    const OLD_PERMALINK: &str =
        "https://old.reddit.com/r/programming/comments/1gq2x7/understanding_cap";

    #[test]
    fn posts_become_sightings() {
        #[rustfmt::skip]
        let cases = [
            // (extra fields, expected url, self post)
            (json!({}), "https://example.com/cap", false),
            (json!({"is_self": true, "url": PERMALINK}), PERMALINK, true),
            (json!({"url": OLD_PERMALINK}), PERMALINK, true),
            (json!({"url": ""}), PERMALINK, true),
            (json!({"url": "https://x.example/?a=1&amp;b=2"}), "https://x.example/?a=1&b=2", false),
        ];
        for (extra, url, is_self) in cases {
            let parsed = run(&listing(vec![t3(extra.clone())])).unwrap();
            assert!(parsed.skipped.is_empty(), "{extra}: {:?}", parsed.skipped);
            let s = &parsed.sightings[0];
            assert_eq!((s.url.as_str(), s.is_self_post), (url, is_self), "{extra}");
            assert_eq!(s.discussion_url.as_deref(), Some(PERMALINK));
            assert_eq!((s.points, s.comments), (Some(512), Some(97)));
            assert_eq!(s.title, "Understanding the CAP theorem & its limits");
            assert_eq!(s.item_id.as_deref(), Some("1gq2x7"));
        }
        let text = json!({"is_self": true, "selftext": "Why &amp; how?\n\nSecond   para"});
        let own = run(&t3(text)).unwrap();
        assert_eq!(own.sightings[0].text, "Why & how?\n\nSecond para");
    }

    #[test]
    fn site_and_time_variants() {
        #[rustfmt::skip]
        let cases = [
            // (extra fields, site key, site name, published in ms)
            (json!({"subreddit": "ExperiencedDevs"}), "experienceddevs", "ExperiencedDevs", 1794000000500),
            (json!({"subreddit": null, "created_utc": 1794000000}), "programming", "programming", 1794000000000),
            (json!({"subreddit": "", "created_utc": null}), "programming", "programming", 0),
        ];
        for (extra, key, name, millis) in cases {
            let s = run(&t3(extra.clone())).unwrap().sightings.remove(0);
            assert_eq!(s.site, format!("reddit:/r/{key}"), "{extra}");
            assert_eq!(s.site_name, format!("/r/{name}"), "{extra}");
            let published = s.published.map(|t| t.timestamp_millis());
            assert_eq!(published.unwrap_or(0), millis, "{extra}");
        }
    }

    #[test]
    fn nsfw_posts_need_include_nsfw() {
        let doc = listing(vec![
            t3(json!({"over_18": true})),
            t3(json!({"id": "2", "over_18": null})),
        ]);
        let parsed = run(&doc).unwrap();
        assert_eq!(parsed.sightings.len(), 1);
        assert!(parsed.skipped[0].contains("NSFW"), "{:?}", parsed.skipped);
        assert_eq!(run_with(true, &doc).unwrap().sightings.len(), 2);
    }

    #[test]
    fn shapes_and_unusable_children() {
        let comment = json!({"kind": "t1", "data": {"name": "t1_abc", "body": "nice"}});
        let more = json!({"kind": "more", "data": {"count": 3}});
        let page = json!([
            listing(vec![t3(json!({}))]),
            listing(vec![comment.clone(), more])
        ]);
        let parsed = run(&page).unwrap();
        assert_eq!((parsed.sightings.len(), parsed.skipped.len()), (1, 2));
        assert!(parsed.skipped[0].contains("t1_abc") && parsed.skipped[0].contains("comment"));
        assert_eq!(run(&comment).unwrap().sightings.len(), 0);
        let bad = listing(vec![
            t3(json!({"url": "/r/rust/comments/zz/other/"})),
            t3(json!({"url": "not a url"})),
            t3(json!({"title": ""})),
            t3(json!({"is_self": true, "permalink": null})),
            t3(json!({"score": "12", "num_comments": null, "id": "ok"})),
        ]);
        let parsed = run(&bad).unwrap();
        assert_eq!(parsed.skipped.len(), 4, "{:?}", parsed.skipped);
        let ok = &parsed.sightings[0];
        assert_eq!((ok.points, ok.comments), (Some(12), None));
    }

    #[test]
    fn invalid_documents_are_errors() {
        #[rustfmt::skip]
        let bodies = [r#"{"kind": "Listing", "data": {}}"#, "42", r#"{"error": 429}"#, "[[]]"];
        testing::assert_invalid(parse, FORMAT, &bodies);
    }
}
