//! RSS 2.0 output with the content, Atom (self link) and Dublin Core namespaces.

use super::xml::{element, escape, escape_into};
use super::{item_html, newest_update, ranked_sightings, rfc2822, FeedMeta};
use crate::model::Story;

pub(crate) fn render(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let mut out = String::with_capacity(1024 + stories.len() * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n");
    element(&mut out, "title", &meta.title);
    element(&mut out, "link", &meta.home_url);
    element(
        &mut out,
        "description",
        if meta.description.is_empty() {
            &meta.title
        } else {
            &meta.description
        },
    );
    out.push_str(&format!(
        "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        escape(&meta.self_url)
    ));
    element(
        &mut out,
        "lastBuildDate",
        &rfc2822(newest_update(stories, meta.updated)),
    );
    element(
        &mut out,
        "generator",
        &format!("feedsift {}", env!("CARGO_PKG_VERSION")),
    );
    for story in stories {
        item(&mut out, story, meta.full_content);
    }
    out.push_str("</channel>\n</rss>\n");
    out.into_bytes()
}

fn item(out: &mut String, story: &Story, full_content: bool) {
    out.push_str("<item>\n");
    element(out, "title", &story.title);
    element(out, "link", &story.url);
    out.push_str("<guid isPermaLink=\"false\">");
    escape_into(out, &story.id.to_urn());
    out.push_str("</guid>\n");
    element(out, "pubDate", &rfc2822(story.published));
    if let Some(author) = &story.author {
        element(out, "dc:creator", author);
    }
    for tag in &story.tags {
        element(out, "category", tag);
    }
    if let Some(top) = ranked_sightings(story)
        .into_iter()
        .find_map(|s| s.discussion_url.as_deref())
    {
        element(out, "comments", top);
    }
    element(out, "description", &story.summary);
    element(out, "content:encoded", &item_html(story, full_content));
    out.push_str("</item>\n");
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
        assert!(
            xml.contains("<description>Five years of running Raft taught us a lot.</description>")
        );
        // Reddit has more points, so its discussion is the one <comments> points at.
        assert!(
            xml.contains("<comments>https://www.reddit.com/r/programming/comments/x/</comments>")
        );
        assert!(xml.contains("Sources: &lt;a href=&quot;https://www.reddit.com/r/programming/comments/x/&quot;&gt;/r/programming&lt;/a&gt; 426 pts · &lt;a href=&quot;https://news.ycombinator.com/item?id=1&quot;&gt;Hacker News&lt;/a&gt; 225 pts (41 comments)"));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let xml = String::from_utf8(render(&fixtures::meta(), &fixtures::stories())).unwrap();
        assert!(!xml.contains("<script>"));
        assert!(!xml.contains("<img"));
        assert!(!xml.contains('\u{1}'));
        assert!(xml.contains(
            "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; </title>"
        ));
        assert!(xml.contains("<link>https://evil.example/?a=1&amp;b=2</link>"));
    }
}
