//! Hostile content: a feed full of script tags, event handlers, javascript: and data: links,
//! SVG scripts, CDATA terminators, control characters and a 1 MB description. Every output
//! must parse in a strict XML parser, and once a reader decodes it, contain no active content.

use crate::support::{
    all_elements, assert_well_formed, config, feed, fixtures_dir, get, get_json, topic, Upstream,
    Workspace,
};

/// The HTML a feed reader renders: the text of the elements that carry HTML (RSS
/// `description` and `content:encoded`, Atom `summary` and `content`) with the XML escaping
/// removed. Titles are text in both formats and are displayed, not rendered.
fn decoded(xml: &str) -> String {
    let mut out = String::new();
    for tag in ["description", "content:encoded", "summary", "content"] {
        for raw in all_elements(xml, tag) {
            // A CDATA section is taken as it is; other text is unescaped once.
            match raw
                .trim()
                .strip_prefix("<![CDATA[")
                .and_then(|r| r.strip_suffix("]]>"))
            {
                Some(cdata) => out.push_str(&cdata.replace("]]]]><![CDATA[>", "]]>")),
                None => out.push_str(&quick_xml::escape::unescape(&raw).unwrap()),
            }
            out.push('\n');
        }
    }
    out
}

fn assert_inert(html: &str, label: &str) {
    assert_no(html, label, &["<img"]);
}

/// No active content; `<img>` is allowed only where `extra` does not list it.
fn assert_no(html: &str, label: &str, extra: &[&str]) {
    let lower = html.to_lowercase();
    let active_markers = [
        "<script",
        "onerror",
        "onclick",
        "<iframe",
        "<svg",
        "<form",
        "<input",
        "<style",
        "javascript:",
        "data:text",
    ];
    for active in active_markers.iter().chain(extra) {
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
    let fixture = std::fs::read_to_string(fixtures_dir().join("feeds/hostile.rss")).unwrap();
    let huge = "Padding sentence about consensus &amp; Raft. ".repeat(24_000);
    assert!(huge.len() > 1_000_000);
    let url = up.serve_bytes(
        "/hostile.rss",
        fixture.replace("HUGE_DESCRIPTION", &huge).into_bytes(),
    );
    let ws = Workspace::new(
        &config()
            .source(feed("hostile", url))
            .topic(topic("raft").title("Raft").keywords(&[("raft", 1)]))
            .topic(
                topic("raft-full")
                    .title("Raft, full text")
                    .content("full")
                    .keywords(&[("raft", 1)]),
            ),
    );
    let out = ws.fetch_once();
    assert!(out.contains("3 new") && out.contains("1 skipped"), "{out}");

    let daemon = ws.serve().await;
    for path in ["/t/raft.rss", "/t/raft.atom"] {
        let xml = get(&daemon.url(path)).await.text().await.unwrap();
        assert_well_formed(&xml);
        assert_inert(&decoded(&xml), path);
        assert!(
            xml.len() < 100_000,
            "{path}: the 1 MB description was summarized, not copied ({} bytes)",
            xml.len()
        );
        // The hostile title survives as text, its tag-like sequences in angle quotes.
        assert!(xml.contains("\u{2039}/title\u{203A}\u{2039}script\u{203A}alert(&quot;title&quot;)\u{2039}/script\u{203A} Raft ]]&gt; breaks CDATA"), "{path}: {}", &xml[..xml.len().min(1500)]);
    }
    let json: serde_json::Value = get_json(&daemon.url("/t/raft.json")).await;
    for item in json["items"].as_array().unwrap() {
        assert_inert(item["content_html"].as_str().unwrap(), "json content_html");
        assert!(!item["url"].as_str().unwrap().starts_with("javascript"));
    }
    let first = &json["items"][0];
    assert_eq!(
        first["title"],
        "\u{2039}/title\u{203A}\u{2039}script\u{203A}alert(\"title\")\u{2039}/script\u{203A} Raft ]]> breaks CDATA"
    );
    assert_eq!(
        first["summary"],
        "Raft consensus explained. click Data: data"
    );
    // Full-content topics carry the sanitized source HTML: images and text stay, links are
    // absolute and rel="noopener noreferrer", nothing active survives.
    for path in ["/t/raft-full.rss", "/t/raft-full.atom"] {
        let xml = get(&daemon.url(path)).await.text().await.unwrap();
        assert_well_formed(&xml);
        let html = decoded(&xml);
        assert_no(&html, path, &[]);
        assert!(
            html.contains("<img src=\"https://hostile.example.com/posts/x\">"),
            "{path}: {html}"
        );
        assert!(
            html.contains("<a rel=\"noopener noreferrer\">click</a>"),
            "{path}: {html}"
        );
    }
    for path in ["/t/raft", "/t/raft/embed"] {
        let html = get(&daemon.url(path)).await.text().await.unwrap();
        // Our own stylesheet lives in <head>; everything from the source is in <body>.
        let body = html.split_once("<body>").unwrap().1;
        assert_inert(body, path);
        assert!(!html.contains("<script"), "{path}");
    }
}
