//! The readable part of an article page, readability-style: paragraphs are scored (length,
//! commas) into their parent and grandparent, navigation, comments, ads and other chrome are
//! ignored, and the best-scoring container's paragraphs are the article. Also the page's own
//! description (og:description, meta description) and title, for fallbacks.

use super::text::collapse_whitespace;
use scraper::{ElementRef, Html, Selector};

/// What an article page offers a summarizer.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ArticleText {
    pub title: Option<String>,
    /// og:description, else meta description, else twitter:description.
    pub description: Option<String>,
    /// The main text, one entry per paragraph, in document order.
    pub paragraphs: Vec<String>,
}

/// Elements that are never the article.
const CHROME_TAGS: &[&str] = &[
    "nav", "header", "footer", "aside", "form", "script", "style", "noscript", "template",
    "button", "select", "menu", "dialog",
];
/// class/id words that mark page chrome (matched as whole words of the attribute).
const CHROME_WORDS: &[&str] = &[
    "ad",
    "ads",
    "advert",
    "advertisement",
    "banner",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "cookie",
    "cookies",
    "disqus",
    "footer",
    "header",
    "masthead",
    "menu",
    "modal",
    "nav",
    "navbar",
    "navigation",
    "newsletter",
    "popup",
    "promo",
    "related",
    "share",
    "sharing",
    "sidebar",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "widget",
];
/// class/id fragments that mark page chrome wherever they appear in the attribute.
const CHROME_FRAGMENTS: &[&str] = &[
    "comment",
    "sidebar",
    "advert",
    "cookie",
    "newsletter",
    "related-",
    "share-",
    "social-",
];
/// Paragraphs shorter than this (in characters) are captions, bylines and buttons.
const MIN_PARAGRAPH: usize = 25;
/// Less main text than this is no article (an app shell, a login wall, a PDF link page).
const MIN_ARTICLE: usize = 200;

pub(crate) fn extract(html: &str) -> ArticleText {
    let doc = Html::parse_document(html);
    ArticleText {
        title: meta(&doc, "property", "og:title").or_else(|| first_text(&doc, "title")),
        description: meta(&doc, "property", "og:description")
            .or_else(|| meta(&doc, "name", "description"))
            .or_else(|| meta(&doc, "name", "twitter:description")),
        paragraphs: main_paragraphs(&doc),
    }
}

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

fn meta(doc: &Html, attr: &str, name: &str) -> Option<String> {
    let sel = selector(&format!("meta[{attr}=\"{name}\"]"))?;
    doc.select(&sel)
        .filter_map(|m| m.value().attr("content"))
        .map(|c| collapse_whitespace(&html_escape::decode_html_entities(c)))
        .find(|c| !c.is_empty())
}

fn first_text(doc: &Html, css: &str) -> Option<String> {
    let sel = selector(css)?;
    let el = doc.select(&sel).next()?;
    Some(collapse_whitespace(&el.text().collect::<String>())).filter(|t| !t.is_empty())
}

fn is_chrome(el: &ElementRef) -> bool {
    let v = el.value();
    if CHROME_TAGS.contains(&v.name())
        || v.attr("role")
            .is_some_and(|r| matches!(r, "navigation" | "banner" | "complementary" | "contentinfo"))
    {
        return true;
    }
    let marks = format!(
        "{} {}",
        v.attr("class").unwrap_or(""),
        v.attr("id").unwrap_or("")
    )
    .to_ascii_lowercase();
    CHROME_FRAGMENTS.iter().any(|f| marks.contains(f))
        || marks
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| CHROME_WORDS.contains(&w))
}

fn inside_chrome(el: &ElementRef) -> bool {
    is_chrome(el)
        || el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| is_chrome(&a))
}

fn main_paragraphs(doc: &Html) -> Vec<String> {
    let Some(sel) = selector("p, pre, blockquote > p, li > p") else {
        return Vec::new();
    };
    let mut kept: Vec<(ElementRef, String)> = Vec::new();
    // (node, score) in document order, so ties go to the earlier container.
    let mut scores = Vec::new();
    let add = |id, score: f64, scores: &mut Vec<(_, f64)>| match scores
        .iter_mut()
        .find(|(n, _)| *n == id)
    {
        Some((_, s)) => *s += score,
        None => scores.push((id, score)),
    };
    for p in doc.select(&sel) {
        if inside_chrome(&p) {
            continue;
        }
        let text = collapse_whitespace(&p.text().collect::<String>());
        if text.chars().count() < MIN_PARAGRAPH {
            continue;
        }
        let score = 1.0 + text.matches(',').count() as f64 + (text.len() as f64 / 100.0).min(3.0);
        let mut ancestors = p.ancestors().filter_map(ElementRef::wrap);
        if let Some(parent) = ancestors.next() {
            add(parent.id(), score, &mut scores);
            if let Some(grandparent) = ancestors.next() {
                add(grandparent.id(), score / 2.0, &mut scores);
            }
        }
        kept.push((p, text));
    }
    let mut best = None;
    for (id, score) in &scores {
        if best.is_none_or(|(_, top)| *score > top) {
            best = Some((*id, *score));
        }
    }
    let Some((best, _)) = best else {
        return Vec::new();
    };
    let paragraphs: Vec<String> = kept
        .into_iter()
        .filter(|(p, _)| p.ancestors().any(|a| a.id() == best))
        .map(|(_, text)| text)
        .collect();
    if paragraphs.iter().map(String::len).sum::<usize>() < MIN_ARTICLE {
        return Vec::new();
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head>
        <title>Raft in Practice | Example Blog</title>
        <meta property="og:description" content="Five years of Raft &amp; what we learned.">
        <meta name="description" content="fallback">
        </head><body>
        <header class="site-header"><nav><a href="/">Home</a> <a href="/about">About us and our long navigation menu text here</a></nav></header>
        <div class="ad-slot"><p>Buy our product today, it is the best product for everything you need!</p></div>
        <main><article class="post-content">
          <h1>Raft in Practice</h1>
          <p>Raft is a consensus algorithm designed to be easy to understand, and we have run it in production for five years.</p>
          <p>Leader election was the easy part. Membership changes, on the other hand, caused three outages, two of them at night.</p>
          <p>We now test every membership change in a simulator before it reaches production, and the outages stopped.</p>
        </article></main>
        <aside class="sidebar"><p>Popular posts: the one about Paxos, the one about CAP, and more great stuff.</p></aside>
        <section id="comments"><p>Great post! I have been saying this for years, thanks for sharing it with us.</p></section>
        <footer><p>Copyright 2026 Example Blog, all rights reserved, no part may be copied.</p></footer>
        </body></html>"#;

    #[test]
    fn the_article_body_wins_over_chrome() {
        let a = extract(PAGE);
        assert_eq!(a.title.as_deref(), Some("Raft in Practice | Example Blog"));
        assert_eq!(
            a.description.as_deref(),
            Some("Five years of Raft & what we learned.")
        );
        assert_eq!(a.paragraphs.len(), 3, "{:?}", a.paragraphs);
        assert!(a.paragraphs[0].starts_with("Raft is a consensus algorithm"));
        assert!(a.paragraphs.iter().all(|p| !p.contains("Great post")
            && !p.contains("Buy our")
            && !p.contains("Copyright")));
    }

    #[test]
    fn pages_without_enough_text_have_no_article() {
        let a = extract("<html><head><meta name=\"description\" content=\"An app.\"></head><body><div id=\"root\"></div></body></html>");
        assert!(a.paragraphs.is_empty());
        assert_eq!(a.description.as_deref(), Some("An app."));
        assert_eq!(extract("not html at all").paragraphs, Vec::<String>::new());
    }
}
