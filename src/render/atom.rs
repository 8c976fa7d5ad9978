//! Atom 1.0 output: one entry per story, `link rel="related"` per discussion.

use super::xml::{element, escape, escape_into};
use super::{item_html, newest_update, ranked_sightings, rfc3339, FeedMeta};
use crate::model::Story;

pub(crate) fn render(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let mut out = String::with_capacity(1024 + stories.len() * 1200);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(&mut out, "title", &meta.title);
    if !meta.description.is_empty() {
        element(&mut out, "subtitle", &meta.description);
    }
    element(&mut out, "id", &meta.home_url);
    link(
        &mut out,
        "self",
        &meta.self_url,
        Some("application/atom+xml"),
        None,
    );
    link(
        &mut out,
        "alternate",
        &meta.home_url,
        Some("text/html"),
        None,
    );
    element(
        &mut out,
        "updated",
        &rfc3339(newest_update(stories, meta.updated)),
    );
    out.push_str("<author><name>feedsift</name></author>\n");
    out.push_str(&format!(
        "<generator version=\"{}\">feedsift</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for story in stories {
        entry(&mut out, story, meta.full_content);
    }
    out.push_str("</feed>\n");
    out.into_bytes()
}

fn link(out: &mut String, rel: &str, href: &str, kind: Option<&str>, title: Option<&str>) {
    out.push_str("<link rel=\"");
    out.push_str(rel);
    out.push_str("\" href=\"");
    escape_into(out, href);
    out.push('"');
    if let Some(kind) = kind {
        out.push_str(&format!(" type=\"{kind}\""));
    }
    if let Some(title) = title {
        out.push_str(" title=\"");
        escape_into(out, title);
        out.push('"');
    }
    out.push_str("/>\n");
}

fn entry(out: &mut String, story: &Story, full_content: bool) {
    out.push_str("<entry>\n");
    element(out, "title", &story.title);
    element(out, "id", &story.id.to_urn());
    link(out, "alternate", &story.url, None, None);
    for s in ranked_sightings(story) {
        if let Some(url) = &s.discussion_url {
            link(out, "related", url, Some("text/html"), Some(&s.site_name));
        }
    }
    element(out, "published", &rfc3339(story.published));
    element(out, "updated", &rfc3339(story.entry_updated()));
    if let Some(author) = &story.author {
        out.push_str("<author><name>");
        escape_into(out, author);
        out.push_str("</name></author>\n");
    }
    for tag in &story.tags {
        out.push_str(&format!("<category term=\"{}\"/>\n", escape(tag)));
    }
    if !story.summary.is_empty() {
        element(out, "summary", &story.summary);
    }
    out.push_str("<content type=\"html\">");
    escape_into(out, &item_html(story, full_content));
    out.push_str("</content>\n</entry>\n");
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
        assert!(xml.contains("<updated>2026-11-20T12:00:00Z</updated>"));
        assert!(xml.contains(&format!("<id>{}</id>", stories[0].id.to_urn())));
        assert!(xml.contains(
            "<link rel=\"alternate\" href=\"https://blog.example.org/posts/raft-in-practice\"/>"
        ));
        assert!(xml.contains("<link rel=\"related\" href=\"https://news.ycombinator.com/item?id=1\" type=\"text/html\" title=\"Hacker News\"/>"));
        assert!(xml.contains("<published>2026-11-19T08:00:00Z</published>"));
        assert!(xml.contains("<summary>Five years of running Raft taught us a lot.</summary>"));
        assert!(xml.contains("/r/programming&lt;/a&gt; 426 pts"));
        assert!(!xml.contains("<script>"));
    }
}
