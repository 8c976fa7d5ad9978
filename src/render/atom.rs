//! Atom 1.0 output, written with the `atom_syndication` crate: one entry per story,
//! `link rel="related"` per discussion.

use super::xml::{escape, XML_DECLARATION};
use super::{clean_meta, clean_stories, item_html, newest_update, ranked_sightings, FeedMeta};
use crate::model::Story;
use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use chrono::{DateTime, SubsecRound, Utc};

pub(crate) fn render(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let (meta, stories) = (clean_meta(meta), clean_stories(stories));
    let stories = &stories[..];
    let feed = Feed {
        title: Text::plain(meta.title.clone()),
        subtitle: (!meta.description.is_empty()).then(|| Text::plain(meta.description.clone())),
        id: meta.home_url.clone(),
        links: [
            link("self", &meta.self_url, Some("application/atom+xml"), None),
            link("alternate", &meta.home_url, Some("text/html"), None),
        ]
        .into_iter()
        .chain(meta.hubs.iter().map(|hub| link("hub", hub, None, None)))
        .collect(),
        updated: date(newest_update(stories, meta.updated)),
        authors: vec![person("feedsift")],
        generator: Some(Generator {
            value: "feedsift".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        entries: stories
            .iter()
            .map(|story| entry(story, meta.full_content))
            .collect(),
        ..Feed::default()
    };
    let mut out = Vec::with_capacity(1024 + stories.len() * 1200);
    out.extend_from_slice(XML_DECLARATION.as_bytes());
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(0),
    };
    // Writing into a Vec cannot fail.
    let mut out = feed.write_with_config(out, config).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Atom dates to the second, as RFC 3339 (the crate writes UTC as `+00:00`).
fn date(at: DateTime<Utc>) -> FixedDateTime {
    at.trunc_subsecs(0).fixed_offset()
}

fn person(name: &str) -> Person {
    Person {
        name: name.to_owned(),
        ..Person::default()
    }
}

fn link(rel: &str, href: &str, kind: Option<&str>, title: Option<&str>) -> Link {
    Link {
        href: href.to_owned(),
        rel: rel.into(),
        mime_type: kind.map(Into::into),
        title: title.map(str::to_owned),
        ..Link::default()
    }
}

fn entry(story: &Story, full_content: bool) -> Entry {
    let mut links = vec![link("alternate", &story.url, None, None)];
    for s in ranked_sightings(story) {
        if let Some(url) = &s.discussion_url {
            links.push(link("related", url, Some("text/html"), Some(&s.site_name)));
        }
    }
    Entry {
        title: Text::plain(story.title.clone()),
        id: story.id.to_urn(),
        links,
        published: Some(date(story.published)),
        updated: date(story.entry_updated()),
        authors: story.author.as_deref().map(person).into_iter().collect(),
        categories: story
            .tags
            .iter()
            .map(|tag| Category {
                term: tag.clone(),
                ..Category::default()
            })
            .collect(),
        // Typed html, the plain text escaped: readers that sniff a text summary for markup find
        // none, and the text they show is the same.
        summary: (!story.summary.is_empty()).then(|| Text::html(escape(&story.summary))),
        content: Some(Content {
            value: Some(item_html(story, full_content)),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn entries_have_ids_links_and_related_discussions() {
        let stories = fixtures::stories();
        let xml = String::from_utf8(render(&fixtures::meta(), &stories)).unwrap();
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
        assert!(xml.contains("<updated>2026-11-20T12:00:00+00:00</updated>"));
        assert!(xml.contains(&format!("<id>{}</id>", stories[0].id.to_urn())));
        assert!(xml.contains(
            "<link href=\"https://blog.example.org/posts/raft-in-practice\" rel=\"alternate\"/>"
        ));
        assert!(xml.contains("<link href=\"https://news.ycombinator.com/item?id=1\" rel=\"related\" type=\"text/html\" title=\"Hacker News\"/>"));
        assert!(xml.contains("<published>2026-11-19T08:00:00+00:00</published>"));
        assert!(xml.contains(
            "<summary type=\"html\">Five years of running Raft taught us a lot.</summary>"
        ));
        assert!(xml.contains("/r/programming&lt;/a&gt; 426 pts"));
        assert!(!xml.contains("<script>"));
    }

    #[test]
    fn reads_back_with_the_crates_parser() {
        let stories = fixtures::stories();
        let feed =
            atom_syndication::Feed::read_from(&render(&fixtures::meta(), &stories)[..]).unwrap();
        assert_eq!(feed.updated, date(fixtures::meta().updated));
        let hostile = &feed.entries[1];
        assert_eq!(
            hostile.title.value,
            "\u{2039}/title\u{203A}\u{2039}script\u{203A}alert(1)\u{2039}/script\u{203A} ]]> & "
        );
        let summary = hostile.summary.as_ref().unwrap();
        assert_eq!(summary.r#type, atom_syndication::TextType::Html);
        assert_eq!(summary.value, "&lt;img src=x onerror=alert(1)&gt; ]]&gt;");
        let raft = &feed.entries[0];
        assert_eq!(raft.id, stories[0].id.to_urn());
        let rels: Vec<(&str, &str)> = raft
            .links
            .iter()
            .map(|l| (l.rel.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            rels,
            [
                (
                    "alternate",
                    "https://blog.example.org/posts/raft-in-practice"
                ),
                (
                    "related",
                    "https://www.reddit.com/r/programming/comments/x/"
                ),
                ("related", "https://news.ycombinator.com/item?id=1"),
            ]
        );
        let content = raft.content.as_ref().unwrap();
        assert_eq!(content.content_type.as_deref(), Some("html"));
        assert_eq!(
            content.value.as_deref(),
            Some(crate::render::item_html(&stories[0], false).as_str())
        );
    }

    #[test]
    fn summary_is_typed_html_and_titles_carry_no_markup() {
        let xml = render(&fixtures::meta(), &[fixtures::hostile_reddit()]);
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(
            text.contains("<summary type=\"html\">raft &amp;lt;script&amp;gt;alert(63)&amp;lt;/script&amp;gt;\nisolated end</summary>"),
            "{text}"
        );
        let (summaries, types) = fixtures::xml_read(&xml, "summary", "type");
        assert_eq!(summaries, [fixtures::HOSTILE_SUMMARY_HTML]);
        assert_eq!(types, ["html"]);
        let (titles, _) = fixtures::xml_read(&xml, "title", "");
        assert_eq!(titles[1], fixtures::HOSTILE_TITLE);
        let (_, terms) = fixtures::xml_read(&xml, "category", "term");
        assert_eq!(terms, fixtures::HOSTILE_TAGS);
        let (names, _) = fixtures::xml_read(&xml, "name", "");
        assert_eq!(names, ["feedsift", "mallory"]);
        let (_, hrefs) = fixtures::xml_read(&xml, "link", "href");
        assert_eq!(hrefs[2], "https://example.org/raft-post");
        let (_, titles) = fixtures::xml_read(&xml, "link", "title");
        assert_eq!(titles, ["/r/programming"]);
    }
}
