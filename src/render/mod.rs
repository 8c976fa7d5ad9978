//! Renderers: one file per output format, each a pure `(&FeedMeta, &[Story]) -> bytes`.
//! This module holds what they share: feed metadata, dates, the sightings line, and the
//! cleaning every story and feed text goes through on its way into any format
//! (`clean_stories`, `clean_meta`).

pub(crate) mod atom;
pub mod html;
pub(crate) mod jsonfeed;
pub(crate) mod opml;
pub(crate) mod rss;
pub(crate) mod xml;

use crate::model::{StoredSighting, Story};
use crate::normalize::clean::{clean_text, needs_cleaning, Field};
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// Everything a renderer needs besides the stories.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    pub title: String,
    pub description: String,
    /// The topic's HTML page.
    pub home_url: String,
    /// This feed's own address (including any query that narrowed it).
    pub self_url: String,
    /// The newest change among the items (or a fixed time for an empty feed).
    pub updated: DateTime<Utc>,
    /// Items carry the source's sanitized body instead of the summary.
    pub full_content: bool,
    /// WebSub hubs the feed names (`[push] hubs`); none on narrowed feeds, which no hub is
    /// told about.
    pub hubs: Vec<String>,
}

/// Output formats and their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    JsonFeed,
}

impl Format {
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::JsonFeed),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::JsonFeed => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::JsonFeed => "application/feed+json; charset=utf-8",
        }
    }

    pub fn render(self, meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
        match self {
            Format::Rss => rss::render(meta, stories),
            Format::Atom => atom::render(meta, stories),
            Format::JsonFeed => jsonfeed::render(meta, stories),
        }
    }
}

/// Sightings best first: most points, then most comments, then site name.
pub fn ranked_sightings(story: &Story) -> Vec<&StoredSighting> {
    let mut list: Vec<&StoredSighting> = story.sightings.iter().collect();
    list.sort_by(|a, b| {
        b.points
            .cmp(&a.points)
            .then(b.comments.cmp(&a.comments))
            .then(a.site_name.cmp(&b.site_name))
    });
    list
}

/// "Hacker News 225 pts (41 comments)": one sighting as readers see it.
pub fn sighting_label(s: &StoredSighting) -> (String, String) {
    let mut figures = String::new();
    if let Some(points) = s.points {
        figures.push_str(&format!(" {points} pts"));
    }
    match s.comments {
        Some(1) => figures.push_str(" (1 comment)"),
        Some(n) if n > 0 => figures.push_str(&format!(" ({n} comments)")),
        _ => {}
    }
    (s.site_name.clone(), figures)
}

/// "Sources: Hacker News 225 pts (41 comments) · /r/programming 426 pts" as plain text.
pub fn sources_text(story: &Story) -> String {
    let parts: Vec<String> = ranked_sightings(story)
        .into_iter()
        .map(|s| {
            let (name, figures) = sighting_label(s);
            format!("{name}{figures}")
        })
        .collect();
    format!("Sources: {}", parts.join(" · "))
}

/// The same line as HTML, each site name linking to its discussion.
pub fn sources_html(story: &Story) -> String {
    let mut out = String::from("Sources: ");
    for (i, s) in ranked_sightings(story).into_iter().enumerate() {
        if i > 0 {
            out.push_str(" · ");
        }
        let (name, figures) = sighting_label(s);
        match &s.discussion_url {
            Some(url) => {
                out.push_str("<a href=\"");
                xml::escape_into(&mut out, url);
                out.push_str("\">");
                xml::escape_into(&mut out, &name);
                out.push_str("</a>");
            }
            None => xml::escape_into(&mut out, &name),
        }
        xml::escape_into(&mut out, &figures);
    }
    out
}

/// An item's HTML body: the summary (or, for full-content topics, the source's sanitized
/// body), then the sources line.
pub fn item_html(story: &Story, full_content: bool) -> String {
    let mut out = String::new();
    if let (true, Some(body)) = (full_content, &story.content_html) {
        out.push_str(body);
    } else if !story.summary.is_empty() {
        out.push_str("<p>");
        xml::escape_into(&mut out, &story.summary);
        out.push_str("</p>");
    }
    out.push_str("<p>");
    out.push_str(&sources_html(story));
    out.push_str("</p>");
    out
}

/// The item's plain-text body: summary, blank line, sources line.
pub fn item_text(story: &Story) -> String {
    if story.summary.is_empty() {
        sources_text(story)
    } else {
        format!("{}\n\n{}", story.summary, sources_text(story))
    }
}

/// HTML element names: a `<` or `</` followed by one of these reads as a tag to a reader or
/// validator that sniffs plain text for markup.
const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "basefont",
    "bdi",
    "bdo",
    "bgsound",
    "big",
    "blink",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "i",
    "iframe",
    "image",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "keygen",
    "label",
    "layer",
    "legend",
    "li",
    "link",
    "listing",
    "main",
    "map",
    "mark",
    "marquee",
    "math",
    "menu",
    "menuitem",
    "meta",
    "meter",
    "nav",
    "nobr",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "plaintext",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "script",
    "search",
    "section",
    "select",
    "slot",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
    "xmp",
];

/// Whether `rest` (what follows a `<`) opens something an HTML parser takes as markup: an
/// HTML element's start or end tag, a comment, a doctype or a processing instruction.
fn opens_markup(rest: &str) -> bool {
    if rest.starts_with(['!', '?']) {
        return true;
    }
    let name = rest.strip_prefix('/').unwrap_or(rest);
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    let ends_tag_name = name[end..]
        .chars()
        .next()
        .is_none_or(|c| c.is_ascii_whitespace() || c == '/' || c == '>');
    end > 0
        && ends_tag_name
        && HTML_ELEMENTS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&name[..end]))
}

fn has_markup(text: &str) -> bool {
    text.match_indices('<')
        .any(|(i, _)| opens_markup(&text[i + 1..]))
}

/// A plain-text label (title, tag) that no reader or validator takes for HTML: each
/// tag-like sequence (`</title>`, `<script>`, `<!--`) is written with the angle quotes
/// U+2039/U+203A instead of `<`/`>`, so it still reads the same. Other `<` (`Vec<u8>`, `a < b`)
/// stay.
pub fn plain_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_tag = false;
    for (i, c) in text.char_indices() {
        match c {
            '<' if opens_markup(&text[i + 1..]) => {
                out.push('\u{2039}');
                in_tag = true;
            }
            '<' => {
                out.push(c);
                in_tag = false;
            }
            '>' if in_tag => {
                out.push('\u{203A}');
                in_tag = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn clean_line(text: &str) -> Cow<'_, str> {
    if needs_cleaning(text, Field::Line) {
        Cow::Owned(clean_text(text, Field::Line))
    } else {
        Cow::Borrowed(text)
    }
}

fn clean_label(text: &str) -> String {
    plain_label(&clean_line(text))
}

fn label_is_clean(text: &str) -> bool {
    !needs_cleaning(text, Field::Line) && !has_markup(text)
}

fn story_is_clean(story: &Story) -> bool {
    let line = |t: &str| !needs_cleaning(t, Field::Line);
    label_is_clean(&story.title)
        && line(&story.url)
        && !needs_cleaning(&story.summary, Field::Multiline)
        && story
            .content_html
            .as_deref()
            .is_none_or(|c| !needs_cleaning(c, Field::Multiline))
        && story.author.as_deref().is_none_or(line)
        && story.tags.iter().all(|t| label_is_clean(t))
        && story
            .sightings
            .iter()
            .all(|s| line(&s.site_name) && s.discussion_url.as_deref().is_none_or(line))
}

fn clean_story(story: &Story) -> Story {
    let line = |t: &str| clean_line(t).into_owned();
    let multiline = |t: &str| clean_text(t, Field::Multiline);
    Story {
        title: clean_label(&story.title),
        url: line(&story.url),
        summary: multiline(&story.summary),
        content_html: story.content_html.as_deref().map(multiline),
        author: story.author.as_deref().map(line),
        tags: story.tags.iter().map(|t| clean_label(t)).collect(),
        sightings: story
            .sightings
            .iter()
            .map(|s| StoredSighting {
                site_name: line(&s.site_name),
                discussion_url: s.discussion_url.as_deref().map(line),
                ..s.clone()
            })
            .collect(),
        ..story.clone()
    }
}

/// The stories as every format writes them, cleaned once where they reach rendering: no
/// control, bidi-override or XML-illegal characters in any field (`clean_text`), titles and
/// tags without tag-like markup (`plain_label`). Borrowed when there is nothing to clean.
pub fn clean_stories(stories: &[Story]) -> Cow<'_, [Story]> {
    if stories.iter().all(story_is_clean) {
        Cow::Borrowed(stories)
    } else {
        Cow::Owned(stories.iter().map(clean_story).collect())
    }
}

/// The feed's own texts, cleaned like the stories'.
pub fn clean_meta(meta: &FeedMeta) -> Cow<'_, FeedMeta> {
    let texts = [&meta.home_url, &meta.self_url];
    if label_is_clean(&meta.title)
        && label_is_clean(&meta.description)
        && texts.iter().all(|t| !needs_cleaning(t, Field::Line))
    {
        return Cow::Borrowed(meta);
    }
    Cow::Owned(FeedMeta {
        title: clean_label(&meta.title),
        description: clean_label(&meta.description),
        home_url: clean_line(&meta.home_url).into_owned(),
        self_url: clean_line(&meta.self_url).into_owned(),
        ..meta.clone()
    })
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The feed's `updated`: newest item change, else the fallback.
pub fn newest_update(stories: &[Story], fallback: DateTime<Utc>) -> DateTime<Utc> {
    stories.iter().map(|s| s.updated).max().unwrap_or(fallback)
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(list) => list.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out)
            }),
            _ => {}
        }
    }

    #[test]
    fn no_output_carries_control_or_bidi_characters() {
        let stories = [fixtures::hostile_reddit()];
        for full_content in [false, true] {
            let meta = FeedMeta {
                full_content,
                ..fixtures::meta()
            };
            for format in [Format::Rss, Format::Atom, Format::JsonFeed] {
                let bytes = format.render(&meta, &stories);
                let text = String::from_utf8(bytes.clone()).unwrap();
                fixtures::assert_no_forbidden(format.extension(), &text);
                if format == Format::JsonFeed {
                    let mut all = Vec::new();
                    strings(&serde_json::from_slice(&bytes).unwrap(), &mut all);
                    for s in &all {
                        fixtures::assert_no_forbidden("json string", s);
                    }
                    assert!(all.iter().any(|s| s == fixtures::HOSTILE_TITLE));
                } else {
                    // Every element's text, as an XML parser reads it.
                    for name in [
                        "title",
                        "description",
                        "content:encoded",
                        "content",
                        "summary",
                    ] {
                        for t in fixtures::xml_read(&bytes, name, "").0 {
                            fixtures::assert_no_forbidden(name, &t);
                        }
                    }
                }
                if full_content {
                    assert!(text.contains("body[31m red"), "{text}");
                }
            }
            let facts = html::PageFacts {
                slug: "s".into(),
                sources: vec![],
                window: "1d".into(),
            };
            let page = html::topic_page("http://x", &meta, &facts, &stories);
            fixtures::assert_no_forbidden("page", &String::from_utf8(page).unwrap());
            let embed = html::embed(&meta, &stories);
            fixtures::assert_no_forbidden("embed", &String::from_utf8(embed).unwrap());
        }
    }

    #[test]
    fn every_format_names_its_hubs_next_to_its_self_link() {
        let meta = FeedMeta {
            hubs: vec![
                "https://hub.example/".into(),
                "http://10.0.0.7:8080/hub".into(),
            ],
            ..fixtures::meta()
        };
        let stories = fixtures::stories();
        let rss = String::from_utf8(Format::Rss.render(&meta, &stories)).unwrap();
        assert!(
            rss.contains(
                "<atom:link href=\"http://127.0.0.1:8080/t/distributed-systems.rss\" rel=\"self\""
            ),
            "{rss}"
        );
        assert!(
            rss.contains("<atom:link href=\"https://hub.example/\" rel=\"hub\"/>"),
            "{rss}"
        );
        assert!(
            rss.contains("<atom:link href=\"http://10.0.0.7:8080/hub\" rel=\"hub\"/>"),
            "{rss}"
        );
        let atom = String::from_utf8(Format::Atom.render(&meta, &stories)).unwrap();
        assert!(
            atom.contains("<link href=\"https://hub.example/\" rel=\"hub\"/>"),
            "{atom}"
        );
        assert!(atom.contains("rel=\"self\""), "{atom}");
        let json: Value =
            serde_json::from_slice(&Format::JsonFeed.render(&meta, &stories)).unwrap();
        assert_eq!(
            json["hubs"],
            serde_json::json!([
                { "type": "WebSub", "url": "https://hub.example/" },
                { "type": "WebSub", "url": "http://10.0.0.7:8080/hub" }
            ])
        );
        // Without hubs, nothing is said of them.
        let plain: Value =
            serde_json::from_slice(&Format::JsonFeed.render(&fixtures::meta(), &stories)).unwrap();
        assert!(plain.get("hubs").is_none());
        let rss = String::from_utf8(Format::Rss.render(&fixtures::meta(), &stories)).unwrap();
        assert!(!rss.contains("rel=\"hub\""));
    }

    #[test]
    fn plain_labels_lose_tags_not_angle_brackets() {
        assert_eq!(
            plain_label("Box<dyn Error> and Vec<u8>, a < b, <B>bold</B> <!-- c --> <img src=x>"),
            "Box<dyn Error> and Vec<u8>, a < b, \u{2039}B\u{203A}bold\u{2039}/B\u{203A} \u{2039}!-- c --\u{203A} \u{2039}img src=x\u{203A}"
        );
        assert_eq!(
            plain_label("</title><script>"),
            "\u{2039}/title\u{203A}\u{2039}script\u{203A}"
        );
        assert_eq!(plain_label("x <a"), "x \u{2039}a");
    }

    #[test]
    fn text_cleaning_by_field() {
        let dirty = "a\tb\r\nc\rd\u{0}\u{1B}\u{7F}\u{85}\u{9F}\u{202A}\u{202E}\u{2066}\u{2069}\u{FFFE}e\u{200F}f";
        assert_eq!(clean_text(dirty, Field::Multiline), "a\tb\nc\nde\u{200F}f");
        assert_eq!(clean_text(dirty, Field::Line), "a b c de\u{200F}f");
    }
}
