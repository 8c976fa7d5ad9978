//! Allow-list sanitizing (ammonia) of HTML that came from a source: no scripts, styles,
//! frames, forms or event handlers; links only to http(s)/mailto with
//! rel="noopener noreferrer"; data: URLs only for images; relative URLs resolved against the
//! item's own address; characters illegal in XML dropped; size capped.

use std::collections::HashSet;
use url::Url;

/// Sanitized bodies longer than this are not kept (the summary still is).
pub(crate) const MAX_CONTENT_BYTES: usize = 200 * 1024;

const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "data"];

/// The sanitized HTML, or `None` when nothing readable is left or it is too large.
pub(crate) fn sanitize_html(html: &str, base: &Url) -> Option<String> {
    // Sanitizing only removes markup: input this large cannot come out under the cap, and
    // parsing it would only cost time.
    if html.len() > 2 * MAX_CONTENT_BYTES {
        return None;
    }
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(URL_SCHEMES.iter().copied().collect::<HashSet<_>>())
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .attribute_filter(|element, attribute, value| {
            // data: is for inline images only, never for links or anything else.
            let is_data = value
                .trim_start()
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("data:"));
            let image = element == "img"
                && attribute == "src"
                && value
                    .trim_start()
                    .get(..11)
                    .is_some_and(|p| p.eq_ignore_ascii_case("data:image/"));
            if is_data && !image {
                None
            } else {
                Some(value.into())
            }
        });
    let clean = builder.clean(html).to_string();
    let clean: String = clean
        .chars()
        .filter(|c| super::text::is_xml_char(*c))
        .collect();
    let readable = !super::text::html_to_text(&clean).is_empty() || clean.contains("<img");
    (readable && clean.len() <= MAX_CONTENT_BYTES).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize_html(
            html,
            &Url::parse("https://blog.example.org/posts/a").unwrap(),
        )
        .unwrap_or_default()
    }

    #[test]
    fn active_content_is_removed() {
        let out = clean(
            r#"<p onclick="x()">Hi <script>alert(1)</script><style>p{}</style><img src="x.png" onerror="alert(2)">
               <iframe src="https://evil.example/"></iframe><form action="/f"><input name="p"></form>
               <svg><script>alert(3)</script></svg><a href="javascript:alert(4)">js</a></p>"#,
        );
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "<iframe",
            "<form",
            "<input",
            "<svg",
            "<style",
            "javascript:",
            "alert",
        ] {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("Hi"));
        assert!(
            out.contains("<img src=\"https://blog.example.org/posts/x.png\">"),
            "{out}"
        );
    }

    #[test]
    fn links_are_safe_and_absolute() {
        let out = clean(r#"<a href="/about">about</a> <a href="mailto:a@b.c">mail</a>"#);
        assert!(
            out.contains(
                r#"<a href="https://blog.example.org/about" rel="noopener noreferrer">about</a>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"href="mailto:a@b.c""#), "{out}");
    }

    #[test]
    fn data_urls_only_for_images() {
        let out = clean(
            r#"<img src="data:image/png;base64,AAAA"><a href="data:text/html,x">bad</a><img src="data:text/html,x">"#,
        );
        assert!(
            out.contains(r#"<img src="data:image/png;base64,AAAA">"#),
            "{out}"
        );
        assert!(!out.contains("data:text"), "{out}");
    }

    #[test]
    fn empty_illegal_and_oversized() {
        assert_eq!(
            sanitize_html(
                "<script>only()</script>",
                &Url::parse("https://x.org/").unwrap()
            ),
            None
        );
        assert_eq!(clean("<p>a\u{1}b</p>"), "<p>ab</p>");
        let big = format!("<p>{}</p>", "word ".repeat(60_000));
        assert_eq!(
            sanitize_html(&big, &Url::parse("https://x.org/").unwrap()),
            None
        );
    }
}
