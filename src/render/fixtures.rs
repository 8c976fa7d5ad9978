//! Stories for renderer tests: one merged across two sites, one hostile.

use crate::model::{StoredSighting, Story, StoryId};
use crate::render::FeedMeta;
use chrono::{TimeZone, Utc};

pub fn meta() -> FeedMeta {
    FeedMeta {
        title: "Distributed Systems".into(),
        description: "Consensus & fault tolerance".into(),
        home_url: "http://127.0.0.1:8080/t/distributed-systems".into(),
        self_url: "http://127.0.0.1:8080/t/distributed-systems.rss".into(),
        updated: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        full_content: false,
        hubs: Vec::new(),
    }
}

fn sighting(
    site: &str,
    name: &str,
    points: Option<i64>,
    comments: Option<i64>,
    url: &str,
) -> StoredSighting {
    StoredSighting {
        site: site.into(),
        site_name: name.into(),
        item_id: None,
        points,
        comments,
        discussion_url: Some(url.into()),
        first_seen: Utc.with_ymd_and_hms(2026, 11, 19, 8, 0, 0).unwrap(),
    }
}

pub fn stories() -> Vec<Story> {
    let raft_url = "https://blog.example.org/posts/raft-in-practice";
    let raft = Story {
        id: StoryId::from_canonical_url(raft_url),
        canonical_url: raft_url.into(),
        url: raft_url.into(),
        title: "Raft in Practice".into(),
        summary: "Five years of running Raft taught us a lot.".into(),
        content_html: None,
        author: Some("Ada".into()),
        published: Utc.with_ymd_and_hms(2026, 11, 19, 8, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        revised: None,
        tags: vec!["distributed".into()],
        sources: vec!["hn".into(), "reddit".into()],
        sightings: vec![
            sighting(
                "hackernews",
                "Hacker News",
                Some(225),
                Some(41),
                "https://news.ycombinator.com/item?id=1",
            ),
            sighting(
                "reddit:/r/programming",
                "/r/programming",
                Some(426),
                Some(0),
                "https://www.reddit.com/r/programming/comments/x/",
            ),
        ],
        article: None,
        embedding: None,
        llm_summary: None,
    };
    let hostile_url = "https://evil.example/?a=1&b=2";
    let hostile = Story {
        id: StoryId::from_canonical_url(hostile_url),
        canonical_url: hostile_url.into(),
        url: hostile_url.into(),
        title: "</title><script>alert(1)</script> ]]> & \u{1}".into(),
        summary: "<img src=x onerror=alert(1)> ]]>".into(),
        content_html: None,
        author: None,
        published: Utc.with_ymd_and_hms(2026, 11, 18, 8, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).unwrap(),
        revised: None,
        tags: vec!["<b>tag</b>".into()],
        sources: vec!["feed".into()],
        sightings: vec![StoredSighting {
            discussion_url: None,
            ..sighting("feed:blog", "Some \"Blog\"", None, None, "")
        }],
        article: None,
        embedding: None,
        llm_summary: None,
    };
    vec![raft, hostile]
}

/// A Reddit self post doing what a hostile source can: markup in the title, the selftext and
/// a tag; control characters (C0, DEL, C1) and bidi overrides/isolates in every field.
pub fn hostile_reddit() -> Story {
    let url = "https://example.org/raft\u{202E}-post";
    Story {
        id: StoryId::from_canonical_url(url),
        canonical_url: url.into(),
        url: url.into(),
        title:
            "Raft </title><script>alert(62)</script>\u{202E}gnp.exe\u{202C} \u{7}\u{85}done\tnow"
                .into(),
        summary: "raft <script>alert(63)</script>\n\u{2066}isolated\u{2069}\u{1}\u{9F}\u{7F} end"
            .into(),
        content_html: Some("<p>body\u{202D}\u{1B}[31m red\u{2068}</p>".into()),
        author: Some("mal\u{202E}lory\u{0}".into()),
        published: Utc.with_ymd_and_hms(2026, 11, 19, 9, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2026, 11, 19, 9, 0, 0).unwrap(),
        revised: None,
        tags: vec!["raft\u{2067}".into(), "</b><i>x".into()],
        sources: vec!["reddit".into()],
        sightings: vec![sighting(
            "reddit:/r/programming",
            "/r/programming\u{202E}",
            Some(100),
            Some(3),
            "https://www.reddit.com/r/programming/comments/y/\u{2069}",
        )],
        article: None,
        embedding: None,
        llm_summary: None,
    }
}

/// What the cleaned `hostile_reddit` reads as.
pub const HOSTILE_TITLE: &str =
    "Raft \u{2039}/title\u{203A}\u{2039}script\u{203A}alert(62)\u{2039}/script\u{203A}gnp.exe done now";
pub const HOSTILE_SUMMARY: &str = "raft <script>alert(63)</script>\nisolated end";
pub const HOSTILE_SUMMARY_HTML: &str = "raft &lt;script&gt;alert(63)&lt;/script&gt;\nisolated end";
pub const HOSTILE_TAGS: [&str; 2] = ["raft", "\u{2039}/b\u{203A}\u{2039}i\u{203A}x"];

/// Characters no output may carry, raw or as a character reference.
pub fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Asserts that the text has no forbidden character, neither raw nor as `&#...;`.
pub fn assert_no_forbidden(label: &str, text: &str) {
    assert!(
        !text.chars().any(forbidden),
        "{label}: raw control/bidi character in {text:?}"
    );
    for (i, _) in text.match_indices("&#") {
        let reference = &text[i + 2..];
        let end = reference.find(';').unwrap_or(reference.len());
        let code = match reference[..end].strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => reference[..end].parse(),
        };
        let c = code.ok().and_then(char::from_u32);
        assert!(
            c.is_some_and(|c| !forbidden(c)),
            "{label}: reference &#{} in output",
            &reference[..end]
        );
    }
}

/// Reads an XML document with a strict parser (quick-xml: end tags checked, only the
/// predefined entities and character references; any error fails the test) and returns the
/// character data of every element named `name`, and the `attr` values of those elements.
pub fn xml_read(xml: &[u8], name: &str, attr: &str) -> (Vec<String>, Vec<String>) {
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let (mut texts, mut attrs) = (Vec::new(), Vec::new());
    let mut current: Option<String> = None;
    let mut depth = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).expect("well-formed XML");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                if e.name().as_ref() == name.as_bytes() {
                    for a in e.attributes() {
                        let a = a.expect("well-formed attribute");
                        if a.key.as_ref() == attr.as_bytes() {
                            attrs.push(a.unescape_value().expect("known entities").into_owned());
                        }
                    }
                }
                if let Event::Start(e) = &event {
                    depth += 1;
                    if e.name().as_ref() == name.as_bytes() && current.is_none() {
                        current = Some(String::new());
                    }
                }
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().unwrap());
                }
            }
            Event::CData(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("valid reference") {
                    Some(c) => c.to_string(),
                    None => resolve_predefined_entity(&r.decode().unwrap())
                        .expect("only predefined entities")
                        .to_string(),
                };
                if let Some(c) = current.as_mut() {
                    c.push_str(&resolved);
                }
            }
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == name.as_bytes() {
                    texts.extend(current.take());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(depth, 0, "unclosed elements");
    (texts, attrs)
}
