//! Hostile content: a feed full of script tags, event handlers, javascript: and data: links,
//! SVG scripts, CDATA terminators, control characters and a 1 MB description. Every output
//! must parse in a strict XML parser, and once a reader decodes it, contain no active content.

mod common;

use common::{client, xml_check::assert_well_formed, Upstream, Workspace};

const CONFIG: &str = r#"
[[source]]
id = "hostile"
kind = "feed"
url = "URL"

[[topic]]
slug = "raft"
summaries = "feed"
title = "Raft"
window = "3650d"
[topic.keywords]
"raft" = 1
"#;

/// What a feed reader gets out of the XML: text and attribute values with one level of
/// escaping removed (the HTML it would render).
fn decoded(xml: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = String::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Text(t) => out.push_str(&t.xml_content().unwrap()),
            quick_xml::events::Event::CData(t) => out.push_str(std::str::from_utf8(&t).unwrap()),
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                for a in e.attributes() {
                    out.push_str(&a.unwrap().unescape_value().unwrap());
                    out.push(' ');
                }
            }
            _ => {}
        }
        out.push('\n');
    }
    out
}

fn assert_inert(html: &str, label: &str) {
    let lower = html.to_lowercase();
    for active in [
        "<script",
        "<img",
        "onerror",
        "<iframe",
        "<svg",
        "<form",
        "<style",
        "javascript:",
        "data:text",
    ] {
        assert!(
            !lower.contains(active),
            "{label}: active content {active:?} reached the reader:\n{}",
            &html[..html.len().min(3000)]
        );
    }
    assert!(
        !html.chars().any(|c| matches!(c, '\u{0}' | '\u{7}')),
        "{label}: control characters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_is_inert_in_every_output() {
    let up = Upstream::start().await;
    let fixture =
        std::fs::read_to_string(common::fixtures_dir().join("feeds/hostile.rss")).unwrap();
    let huge = "Padding sentence about consensus &amp; Raft. ".repeat(24_000);
    assert!(huge.len() > 1_000_000);
    up.serve_bytes(
        "/hostile.rss",
        fixture.replace("HUGE_DESCRIPTION", &huge).into_bytes(),
    );
    let ws = Workspace::new(&CONFIG.replace("URL", &up.url("/hostile.rss")));
    let out = ws.fetch_once();
    assert!(out.contains("3 new") && out.contains("1 skipped"), "{out}");

    let daemon = ws.serve().await;
    let http = client();
    for path in ["/t/raft.rss", "/t/raft.atom"] {
        let xml = http
            .get(daemon.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_well_formed(&xml);
        assert_inert(&decoded(&xml), path);
        assert!(
            xml.len() < 100_000,
            "{path}: the 1 MB description was summarized, not copied ({} bytes)",
            xml.len()
        );
        // The hostile title survives as text.
        assert!(xml.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; Raft ]]&gt; breaks CDATA"), "{path}: {}", &xml[..xml.len().min(1500)]);
    }
    let json: serde_json::Value = serde_json::from_slice(
        &http
            .get(daemon.url("/t/raft.json"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    for item in json["items"].as_array().unwrap() {
        assert_inert(item["content_html"].as_str().unwrap(), "json content_html");
        assert!(!item["url"].as_str().unwrap().starts_with("javascript"));
    }
    let first = &json["items"][0];
    assert_eq!(
        first["title"],
        "</title><script>alert(\"title\")</script> Raft ]]> breaks CDATA"
    );
    assert_eq!(
        first["summary"],
        "Raft consensus explained. click Data: data"
    );
    for path in ["/t/raft", "/t/raft/embed"] {
        let html = http
            .get(daemon.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Our own stylesheet lives in <head>; everything from the source is in <body>.
        let body = html.split_once("<body>").unwrap().1;
        assert_inert(body, path);
        assert!(!html.contains("<script"), "{path}");
    }
}
