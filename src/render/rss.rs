//! RSS 2.0 output with the content, Atom (self link) and Dublin Core namespaces, written with
//! the `rss` crate.

use super::xml::escape;
use super::{
    clean_meta, clean_stories, item_html, newest_update, ranked_sightings, rfc2822, FeedMeta,
};
use crate::model::Story;
use ::rss::extension::atom::{AtomExtension, Link};
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::{Category, Channel, Guid, Item};
use std::collections::BTreeMap;

/// Declared on every feed, whether or not any item uses them.
const NAMESPACES: [(&str, &str); 3] = [
    ("atom", ::rss::extension::atom::NAMESPACE),
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("dc", ::rss::extension::dublincore::NAMESPACE),
];

pub(crate) fn render(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let (meta, stories) = (clean_meta(meta), clean_stories(stories));
    let stories = &stories[..];
    let description = if meta.description.is_empty() {
        &meta.title
    } else {
        &meta.description
    };
    let channel = Channel {
        title: meta.title.clone(),
        link: meta.home_url.clone(),
        description: description.clone(),
        last_build_date: Some(rfc2822(newest_update(stories, meta.updated))),
        generator: Some(format!("feedsift {}", env!("CARGO_PKG_VERSION"))),
        atom_ext: Some(AtomExtension {
            links: std::iter::once(Link {
                href: meta.self_url.clone(),
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Link::default()
            })
            .chain(meta.hubs.iter().map(|hub| Link {
                href: hub.clone(),
                rel: "hub".into(),
                ..Link::default()
            }))
            .collect(),
        }),
        namespaces: NAMESPACES
            .iter()
            .map(|(prefix, uri)| (prefix.to_string(), uri.to_string()))
            .collect::<BTreeMap<_, _>>(),
        items: stories
            .iter()
            .map(|story| item(story, meta.full_content))
            .collect(),
        ..Channel::default()
    };
    let out = Vec::with_capacity(1024 + stories.len() * 1024);
    // Writing into a Vec cannot fail.
    let mut out = channel.pretty_write_to(out, b' ', 0).unwrap_or_default();
    out.push(b'\n');
    out
}

fn item(story: &Story, full_content: bool) -> Item {
    Item {
        title: Some(story.title.clone()),
        link: Some(story.url.clone()),
        guid: Some(Guid {
            value: story.id.to_urn(),
            permalink: false,
        }),
        pub_date: Some(rfc2822(story.published)),
        dublin_core_ext: story.author.as_ref().map(|author| DublinCoreExtension {
            creators: vec![author.clone()],
            ..DublinCoreExtension::default()
        }),
        categories: story
            .tags
            .iter()
            .map(|tag| Category {
                name: tag.clone(),
                domain: None,
            })
            .collect(),
        comments: ranked_sightings(story)
            .into_iter()
            .find_map(|s| s.discussion_url.as_deref())
            .map(str::to_owned),
        // Readers take an RSS description for HTML: the plain-text summary is escaped as such.
        description: Some(escape(&story.summary)),
        content: Some(item_html(story, full_content)),
        ..Item::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn items_carry_link_guid_date_summary_and_sources() {
        let stories = fixtures::stories();
        let xml = String::from_utf8(render(&fixtures::meta(), &stories)).unwrap();
        assert!(xml.contains("<title>Distributed Systems</title>"));
        assert!(xml.contains(
            "<atom:link href=\"http://127.0.0.1:8080/t/distributed-systems.rss\" rel=\"self\""
        ));
        assert!(xml.contains("<link>https://blog.example.org/posts/raft-in-practice</link>"));
        assert!(xml.contains(&format!(
            "<guid isPermaLink=\"false\">{}</guid>",
            stories[0].id.to_urn()
        )));
        assert!(xml.contains("<pubDate>Thu, 19 Nov 2026 08:00:00 GMT</pubDate>"));
        assert!(xml.contains(
            "<description><![CDATA[Five years of running Raft taught us a lot.]]></description>"
        ));
        // Reddit has more points, so its discussion is the one <comments> points at.
        assert!(
            xml.contains("<comments>https://www.reddit.com/r/programming/comments/x/</comments>")
        );
        assert!(xml.contains("<content:encoded><![CDATA[<p>Five years of running Raft taught us a lot.</p><p>Sources: <a href=\"https://www.reddit.com/r/programming/comments/x/\">/r/programming</a> 426 pts · <a href=\"https://news.ycombinator.com/item?id=1\">Hacker News</a> 225 pts (41 comments)</p>]]></content:encoded>"));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let xml = String::from_utf8(render(&fixtures::meta(), &fixtures::stories())).unwrap();
        assert!(!xml.contains("<script>"));
        // The plain-text summary is HTML-escaped for the description...
        assert!(xml.contains(
            "<description><![CDATA[&lt;img src=x onerror=alert(1)&gt; ]]&gt;]]></description>"
        ));
        // ...and in the HTML body.
        assert!(xml.contains(
            "<content:encoded><![CDATA[<p>&lt;img src=x onerror=alert(1)&gt; ]]&gt;</p>"
        ));
        assert!(!xml.contains("<img"));
        assert!(!xml.contains('\u{1}'));
        assert!(xml.contains(
            "<title>\u{2039}/title\u{203A}\u{2039}script\u{203A}alert(1)\u{2039}/script\u{203A} ]]&gt; &amp; </title>"
        ));
        assert!(xml.contains("<category>\u{2039}b\u{203A}tag\u{2039}/b\u{203A}</category>"));
        assert!(xml.contains("<link>https://evil.example/?a=1&amp;b=2</link>"));
    }

    #[test]
    fn reads_back_with_the_crates_parser() {
        let stories = fixtures::stories();
        let bytes = render(&fixtures::meta(), &stories);
        let channel = ::rss::Channel::read_from(&bytes[..]).unwrap();
        assert_eq!(channel.title, "Distributed Systems");
        assert_eq!(channel.description, "Consensus & fault tolerance");
        let hostile = &channel.items[1];
        // (the crate's reader trims text)
        assert_eq!(
            hostile.title.as_deref(),
            Some(
                "\u{2039}/title\u{203A}\u{2039}script\u{203A}alert(1)\u{2039}/script\u{203A} ]]> &"
            )
        );
        assert_eq!(
            hostile.description.as_deref(),
            Some("&lt;img src=x onerror=alert(1)&gt; ]]&gt;")
        );
        assert_eq!(
            hostile.categories[0].name,
            "\u{2039}b\u{203A}tag\u{2039}/b\u{203A}"
        );
        let raft = &channel.items[0];
        assert_eq!(
            raft.guid.as_ref().map(|g| (g.value.as_str(), g.permalink)),
            Some((stories[0].id.to_urn().as_str(), false))
        );
        assert_eq!(
            raft.dublin_core_ext.as_ref().map(|dc| dc.creators.clone()),
            Some(vec!["Ada".to_string()])
        );
        assert_eq!(
            raft.content.as_deref(),
            Some(crate::render::item_html(&stories[0], false).as_str())
        );
    }

    #[test]
    fn plain_text_description_is_html_escaped() {
        let xml = render(&fixtures::meta(), &[fixtures::hostile_reddit()]);
        let text = String::from_utf8(xml.clone()).unwrap();
        // On the wire: the HTML-escaped text, in a CDATA section.
        assert!(text.contains(&format!(
            "<description><![CDATA[{}]]></description>",
            fixtures::HOSTILE_SUMMARY_HTML
        )));
        assert!(!text.contains("<script"), "{text}");
        // What a reader's XML parser hands on as the description's HTML: the text, escaped.
        let (descriptions, _) = fixtures::xml_read(&xml, "description", "");
        assert_eq!(descriptions[1], fixtures::HOSTILE_SUMMARY_HTML);
    }

    #[test]
    fn titles_and_tags_carry_no_markup() {
        let xml = render(&fixtures::meta(), &[fixtures::hostile_reddit()]);
        let (titles, _) = fixtures::xml_read(&xml, "title", "");
        assert_eq!(titles[1], fixtures::HOSTILE_TITLE);
        let (tags, _) = fixtures::xml_read(&xml, "category", "");
        assert_eq!(tags, fixtures::HOSTILE_TAGS);
        let (creators, _) = fixtures::xml_read(&xml, "dc:creator", "");
        assert_eq!(creators, ["mallory"]);
        let (links, _) = fixtures::xml_read(&xml, "link", "");
        assert_eq!(links[1], "https://example.org/raft-post");
        let (comments, _) = fixtures::xml_read(&xml, "comments", "");
        assert_eq!(
            comments,
            ["https://www.reddit.com/r/programming/comments/y/"]
        );
    }
}
