//! Adapter for any RSS 0.9x/1.0/2.0, Atom 1.0 or JSON Feed 1.0/1.1 document (via feed-rs).
//! Entries without a usable http(s) link are skipped with a reason.

use super::{entry_window, xml_repair, Parsed, SourceContext, SourceError};
use crate::model::Sighting;
use crate::normalize::bounds::{raw_prefix, MAX_HTML_BYTES, RAW_TEXT_BYTES, RAW_TITLE_BYTES};
use crate::normalize::{clean_title, collapse_whitespace, html_to_text, parse_http_url};
use feed_rs::model::{Entry, Link, Text};
use url::Url;

pub fn parse(ctx: &SourceContext, body: &[u8]) -> Result<Parsed, SourceError> {
    // Entries beyond `max_entries` are cut before parsing: feed-rs builds every entry it sees.
    let window = entry_window::newest(body, ctx.max_entries, ctx.fetched_at);
    let body = &window.body[..];
    let (feed, unread) = match parse_strict(ctx, body) {
        Ok(feed) => (feed, window.dropped),
        Err(strict_error) => {
            reject_obvious_non_feeds(body)?;
            let repaired = std::str::from_utf8(body).ok().and_then(|text| {
                if text.trim_start().starts_with('{') {
                    xml_repair::repair_json_feed(text)
                } else {
                    xml_repair::repair(text)
                }
            });
            let Some(text) = repaired else {
                return Err(strict_error);
            };
            // Where the scan stopped at an error, the repaired text may have more entries.
            let again = entry_window::newest(text.as_bytes(), ctx.max_entries, ctx.fetched_at);
            let feed = parse_strict(ctx, &again.body).map_err(|_| strict_error)?;
            (feed, window.dropped + again.dropped)
        }
    };
    let mut parsed = Parsed {
        ttl: feed
            .ttl
            .map(|minutes| std::time::Duration::from_secs(u64::from(minutes) * 60)),
        unread,
        ..Parsed::default()
    };
    for entry in &feed.entries {
        match sighting(ctx, entry) {
            Ok(s) => parsed.sightings.push(s),
            Err(reason) => parsed.skipped.push(reason),
        }
    }
    Ok(parsed)
}

fn parse_strict(ctx: &SourceContext, body: &[u8]) -> Result<feed_rs::model::Feed, SourceError> {
    feed_rs::parser::Builder::new()
        .base_uri(Some(ctx.url.as_str()))
        .build()
        .parse(body)
        .map_err(|e| SourceError::NotAFeed(describe_parse_error(&e.to_string())))
}

/// The parser's message, made plain where it is cryptic.
fn describe_parse_error(message: &str) -> String {
    if message.contains("no root element") {
        "no RSS, Atom, RDF or JSON Feed document found (no <rss>, <feed> or <rdf:RDF> root element)"
            .into()
    } else {
        message.to_string()
    }
}

/// Clear reasons for the commonest wrong answers: nothing at all, or a web page.
fn reject_obvious_non_feeds(body: &[u8]) -> Result<(), SourceError> {
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    if head.is_empty() {
        return Err(SourceError::NotAFeed("empty body".into()));
    }
    if looks_like_html(&head) {
        return Err(SourceError::NotAFeed(
            "got an HTML page (is the URL the feed's own address?)".into(),
        ));
    }
    Ok(())
}

/// True when the first thing after any prolog, comments and doctype is an HTML doctype or
/// an `<html>`, `<head>` or `<body>` element. `head` is lower-case.
fn looks_like_html(head: &str) -> bool {
    let mut rest = head.trim_start();
    loop {
        if rest.starts_with("<!doctype html") {
            return true;
        }
        let skipped = if rest.starts_with("<?") {
            rest.find("?>").map(|end| end + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|end| end + 3)
        } else if rest.starts_with("<!doctype") {
            rest.find('>').map(|end| end + 1)
        } else {
            break;
        };
        match skipped {
            Some(len) => rest = rest[len..].trim_start(),
            None => return false,
        }
    }
    ["<html", "<head", "<body"].iter().any(|tag| {
        rest.strip_prefix(tag).is_some_and(|after| {
            after.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace())
        })
    })
}

fn sighting(ctx: &SourceContext, entry: &Entry) -> Result<Sighting, String> {
    let base = entry
        .base
        .as_deref()
        .and_then(|b| ctx.url.join(b).ok())
        .unwrap_or_else(|| ctx.url.clone());
    let url = article_link(entry, &base)
        .ok_or_else(|| format!("entry {:?} has no http(s) link", entry.id))?;
    let text = entry_text(entry);
    let html = entry_html(entry);
    let title = entry
        .title
        .as_ref()
        .map(title_of)
        .map(|t| clean_title(&t))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fallback_title(&text, &url));
    Ok(Sighting {
        source: ctx.source.id.clone(),
        site: format!("feed:{}", ctx.source.id),
        site_name: ctx.source.name.clone(),
        item_id: Some(entry.id.clone()).filter(|id| !id.is_empty()),
        url: url.to_string(),
        title,
        text,
        html,
        author: entry
            .authors
            .first()
            .and_then(|a| a.name.as_deref())
            .map(collapse_whitespace)
            .filter(|a| !a.is_empty()),
        tags: entry
            .categories
            .iter()
            .map(|c| collapse_whitespace(c.label.as_deref().unwrap_or(&c.term)))
            .filter(|t| !t.is_empty())
            .collect(),
        points: None,
        comments: None,
        discussion_url: None,
        published: entry.published.or(entry.updated),
        fetched_at: ctx.fetched_at,
        is_self_post: false,
    })
}

/// The alternate (HTML) link, else the first link, else an http(s) entry id.
fn article_link(entry: &Entry, base: &Url) -> Option<Url> {
    let is_alternate = |l: &&Link| matches!(l.rel.as_deref(), None | Some("alternate"));
    let linked = entry
        .links
        .iter()
        .filter(is_alternate)
        .chain(entry.links.iter())
        .map(|l| l.href.as_str())
        .filter(|href| !href.trim().is_empty())
        .find_map(|href| parse_http_url(href, Some(base)).ok());
    // An id is only a link when it is an absolute URL: never resolve a bare id against the base.
    linked.or_else(|| parse_http_url(&entry.id, None).ok())
}

/// Plain text of the richest body: content, then summary.
fn entry_text(entry: &Entry) -> String {
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(|body| html_to_text(raw_prefix(body, RAW_TEXT_BYTES)))
        .unwrap_or_default();
    if !content.is_empty() {
        return content;
    }
    entry.summary.as_ref().map(text_of).unwrap_or_default()
}

/// The richest body in HTML (content, then an HTML summary), for sanitized full content.
fn entry_html(entry: &Entry) -> Option<String> {
    let kept = |html: &str| raw_prefix(html, MAX_HTML_BYTES).to_string();
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(kept);
    let summary = entry
        .summary
        .as_ref()
        .filter(|t| t.content_type.subty() != "plain" || t.content.contains('<'))
        .map(|t| kept(&t.content));
    content.or(summary).filter(|h| !h.trim().is_empty())
}

/// Text constructs may be plain text or HTML; both come out as plain text.
fn text_of(text: &Text) -> String {
    let content = raw_prefix(&text.content, RAW_TEXT_BYTES);
    if text.content_type.subty() == "plain" && !content.contains('<') {
        content.to_string()
    } else {
        html_to_text(content)
    }
}

/// Titles are text unless the feed says HTML (Atom `type="html"`): a plain title that
/// mentions `<script>` is about script tags and must keep those words.
fn title_of(text: &Text) -> String {
    let content = raw_prefix(&text.content, RAW_TITLE_BYTES);
    if text.content_type.subty() == "plain" {
        content.to_string()
    } else {
        html_to_text(content)
    }
}

fn fallback_title(text: &str, url: &Url) -> String {
    let words: Vec<&str> = text.split_whitespace().take(12).collect();
    if words.is_empty() {
        url.to_string()
    } else {
        format!("{}…", words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::site_json::testing::run_keeping;
    use super::super::SourceKind;
    use super::looks_like_html;

    /// An RSS feed of `n` items, item `i` published `i` hours before the test's fetch time;
    /// item `broken` (if any) has a bare `&` in its title, which only the repair accepts.
    fn hourly_rss(n: usize, broken: Option<usize>) -> String {
        let items: String = (0..n)
            .map(|i| {
                let title = if Some(i) == broken { "R&D" } else { "Story" };
                let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z").unwrap()
                    - chrono::Duration::hours(i as i64);
                format!(
                    "<item><title>{title} {i}</title><link>https://example.com/{i}</link><pubDate>{}</pubDate></item>\n",
                    at.to_rfc2822()
                )
            })
            .collect();
        format!("<rss version=\"2.0\"><channel><title>t</title>\n{items}</channel></rss>")
    }

    fn links(parsed: &super::Parsed) -> Vec<String> {
        parsed.sightings.iter().map(|s| s.url.clone()).collect()
    }

    #[test]
    fn entries_beyond_max_entries_are_not_read_and_are_counted() {
        let newest: Vec<String> = (0..10)
            .map(|i| format!("https://example.com/{i}"))
            .collect();
        // Well-formed, and broken after entry 50: the repaired text is cut again.
        for broken in [None, Some(50)] {
            let body = hourly_rss(80, broken);
            let parsed = run_keeping(super::parse, SourceKind::Feed, body.as_bytes(), 10).unwrap();
            assert_eq!(links(&parsed), newest, "{broken:?}");
            assert_eq!((parsed.unread, parsed.skipped.len()), (70, 0), "{broken:?}");
        }
        let parsed = run_keeping(
            super::parse,
            SourceKind::Feed,
            hourly_rss(80, None).as_bytes(),
            80,
        )
        .unwrap();
        assert_eq!((parsed.sightings.len(), parsed.unread), (80, 0));
    }

    #[test]
    fn html_pages_are_recognised_behind_prologs_comments_and_doctypes() {
        for page in [
            "<!doctype html><html><body>x</body></html>",
            "<html lang=\"en\">",
            "<!-- generated by a cms -->\n<html>",
            "<?xml version=\"1.0\"?>\n<!doctype html public \"-//w3c//dtd xhtml 1.0 strict//en\" \"x\"><html>",
            "<head><title>x</title></head><body>hi</body>",
            "<body/>",
        ] {
            assert!(looks_like_html(page), "{page}");
        }
        for feed in [
            "<?xml version=\"1.0\"?><rss version=\"2.0\">",
            "<!-- html --><feed xmlns=\"http://www.w3.org/2005/atom\">",
            "<!doctype rss><rss>",
            "<htmlish/>",
            "<!-- never closed <html>",
            "{\"version\": \"https://jsonfeed.org/version/1.1\"}",
        ] {
            assert!(!looks_like_html(feed), "{feed}");
        }
    }
}
