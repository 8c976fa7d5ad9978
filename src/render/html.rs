//! HTML pages: the index of topics and a topic's digest page (numbered items with date,
//! title linking to the article, summary and sources). No JavaScript.

use super::xml::escape;
use super::{clean_meta, clean_stories, sources_html, FeedMeta};
use crate::model::Story;

/// One row of the index page.
#[derive(Debug, Clone)]
pub struct TopicLink {
    pub slug: String,
    pub title: String,
    pub description: String,
}

/// Facts shown at the top of a topic page.
#[derive(Debug, Clone)]
pub struct PageFacts {
    pub slug: String,
    pub sources: Vec<String>,
    pub window: String,
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#222;background:#fff}\
a{color:#0645ad}h1{font-size:1.6rem;margin-bottom:.2rem}ol{padding-left:1.4rem}li{margin:0 0 1.2rem}\
.date{color:#666;font-size:.85rem}.sources{color:#555;font-size:.9rem}\
h2{font-size:1rem;margin:0 0 .3rem}.facts{margin:0}.facts dt{font-weight:600;float:left;clear:left;margin-right:.5rem}.facts dd{margin:0}\
section{background:#f5f5f5;padding:.6rem 1rem;border-radius:6px;margin:1rem 0}.feeds a{margin-right:.8rem}";

fn head(out: &mut String, title: &str, alternates: &[(String, &str, &str)]) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    for (href, kind, label) in alternates {
        out.push_str(&format!(
            "<link rel=\"alternate\" type=\"{kind}\" title=\"{}\" href=\"{}\">\n",
            escape(label),
            escape(href)
        ));
    }
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
}

fn feed_links(base_url: &str, slug: &str) -> Vec<(String, &'static str, &'static str)> {
    vec![
        (
            format!("{base_url}/t/{slug}.rss"),
            "application/rss+xml",
            "RSS",
        ),
        (
            format!("{base_url}/t/{slug}.atom"),
            "application/atom+xml",
            "Atom",
        ),
        (
            format!("{base_url}/t/{slug}.json"),
            "application/feed+json",
            "JSON Feed",
        ),
    ]
}

/// `/`: every topic with its page and feeds.
pub fn index(base_url: &str, topics: &[TopicLink]) -> Vec<u8> {
    let mut out = String::new();
    head(&mut out, "feedsift topics", &[]);
    out.push_str("<h1>Topics</h1>\n<ul>\n");
    for t in topics {
        out.push_str(&format!(
            "<li><a href=\"{}/t/{}\">{}</a>",
            escape(base_url),
            escape(&t.slug),
            escape(&t.title)
        ));
        if !t.description.is_empty() {
            out.push_str(&format!(" — {}", escape(&t.description)));
        }
        out.push_str("<br><span class=\"feeds\">");
        for (href, _, label) in feed_links(base_url, &t.slug) {
            out.push_str(&format!("<a href=\"{}\">{label}</a>", escape(&href)));
        }
        out.push_str("</span></li>\n");
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out.into_bytes()
}

/// `/t/{slug}`: the topic's digest page.
pub fn topic_page(
    base_url: &str,
    meta: &FeedMeta,
    facts: &PageFacts,
    stories: &[Story],
) -> Vec<u8> {
    let (meta, stories) = (clean_meta(meta), clean_stories(stories));
    let mut out = String::new();
    let links = feed_links(base_url, &facts.slug);
    head(&mut out, &meta.title, &links);
    out.push_str(&format!("<h1>{}</h1>\n", escape(&meta.title)));
    if !meta.description.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape(&meta.description)));
    }
    out.push_str("<section aria-label=\"Page facts\"><h2>Page facts</h2><dl class=\"facts\"><dt>Topic</dt><dd>");
    out.push_str(&escape(&meta.title));
    out.push_str("</dd><dt>Sources</dt><dd>");
    out.push_str(&escape(&facts.sources.join(", ")));
    out.push_str(&format!(
        "</dd><dt>Time window</dt><dd>Articles from the last {}</dd>",
        escape(&facts.window)
    ));
    out.push_str(&format!(
        "<dt>Current results</dt><dd>{}</dd></dl></section>\n",
        stories.len()
    ));
    out.push_str("<p class=\"feeds\">Subscribe: ");
    for (href, _, label) in &links {
        out.push_str(&format!("<a href=\"{}\">{label}</a>", escape(href)));
    }
    out.push_str("</p>\n<ol>\n");
    for story in stories.iter() {
        out.push_str("<li><div class=\"date\">");
        out.push_str(&story.published.format("%Y-%m-%d").to_string());
        out.push_str(&format!(
            "</div><a href=\"{}\"><strong>{}</strong></a>",
            escape(&story.url),
            escape(&story.title)
        ));
        if !story.summary.is_empty() {
            out.push_str(&format!("<p>{}</p>", escape(&story.summary)));
        }
        out.push_str(&format!(
            "<div class=\"sources\">{}</div></li>\n",
            sources_html(story)
        ));
    }
    out.push_str("</ol>\n</body>\n</html>\n");
    out.into_bytes()
}

const EMBED_STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:.5rem;color:#222;background:transparent}\
ol{margin:0;padding-left:1.3rem}li{margin:0 0 .6rem}a{color:#0645ad}.meta{color:#666;font-size:.8rem}";

/// `/t/{slug}/embed`: a compact list for an iframe, links opening outside the frame.
pub fn embed(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let (meta, stories) = (clean_meta(meta), clean_stories(stories));
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<base target=\"_blank\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{EMBED_STYLE}</style>\n</head>\n<body>\n<ol>\n",
        escape(&meta.title)
    ));
    for story in stories.iter() {
        out.push_str(&format!(
            "<li><a href=\"{}\" rel=\"noopener noreferrer\">{}</a><div class=\"meta\">{} · {}</div></li>\n",
            escape(&story.url),
            escape(&story.title),
            story.published.format("%Y-%m-%d"),
            sources_html(story).replace("<a href=", "<a rel=\"noopener noreferrer\" href=")
        ));
    }
    out.push_str("</ol>\n</body>\n</html>\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn topic_page_lists_items_with_sources_and_feed_links() {
        let facts = PageFacts {
            slug: "distributed-systems".into(),
            sources: vec!["hn".into()],
            window: "30d".into(),
        };
        let html = String::from_utf8(topic_page(
            "http://x",
            &fixtures::meta(),
            &facts,
            &fixtures::stories(),
        ))
        .unwrap();
        assert!(html.contains("<link rel=\"alternate\" type=\"application/rss+xml\" title=\"RSS\" href=\"http://x/t/distributed-systems.rss\">"));
        assert!(html.contains("<a href=\"https://blog.example.org/posts/raft-in-practice\"><strong>Raft in Practice</strong></a>"));
        assert!(html.contains("Hacker News</a> 225 pts (41 comments)"));
        assert!(html.contains("<dt>Current results</dt><dd>2</dd>"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn embed_is_a_bare_list() {
        let html = String::from_utf8(embed(&fixtures::meta(), &fixtures::stories())).unwrap();
        assert!(html.contains("<base target=\"_blank\">"));
        assert!(html.contains("<a href=\"https://blog.example.org/posts/raft-in-practice\" rel=\"noopener noreferrer\">Raft in Practice</a>"));
        assert!(html.contains("<a rel=\"noopener noreferrer\" href=\"https://news.ycombinator.com/item?id=1\">Hacker News</a> 225 pts"));
        assert!(!html.contains("<h1>") && !html.contains("<script>"));
        assert_eq!(html.matches("<li>").count(), 2);
    }
}
