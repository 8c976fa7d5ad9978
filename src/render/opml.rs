//! OPML 2.0 listing every topic feed, for one-click import into a reader.

use super::xml::escape;

/// One outline: a topic's title, description and feed URLs.
pub(crate) struct OpmlFeed {
    pub title: String,
    pub description: String,
    pub xml_url: String,
    pub html_url: String,
}

/// The outline list. No dateCreated: the same topics always give the same bytes.
pub(crate) fn render(title: &str, feeds: &[OpmlFeed]) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head>\n",
    );
    out.push_str(&format!(
        "<title>{}</title>\n</head>\n<body>\n",
        escape(title)
    ));
    for f in feeds {
        out.push_str(&format!(
            "<outline type=\"rss\" text=\"{t}\" title=\"{t}\" description=\"{d}\" xmlUrl=\"{x}\" htmlUrl=\"{h}\"/>\n",
            t = escape(&f.title),
            d = escape(&f.description),
            x = escape(&f.xml_url),
            h = escape(&f.html_url)
        ));
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_per_feed() {
        let feeds = [OpmlFeed {
            title: "Rust & more".into(),
            description: "d".into(),
            xml_url: "http://x/t/rust.rss".into(),
            html_url: "http://x/t/rust".into(),
        }];
        let xml = String::from_utf8(render("feedsift", &feeds)).unwrap();
        assert!(xml.contains("<opml version=\"2.0\">"));
        assert!(xml.contains("<outline type=\"rss\" text=\"Rust &amp; more\" title=\"Rust &amp; more\" description=\"d\" xmlUrl=\"http://x/t/rust.rss\" htmlUrl=\"http://x/t/rust\"/>"));
    }
}
