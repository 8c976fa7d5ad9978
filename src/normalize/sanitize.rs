//! Allow-list sanitizing (ammonia) of HTML that came from a source: no scripts, styles,
//! frames, forms or event handlers; links only to http(s)/mailto with
//! rel="noopener noreferrer"; data: URLs only for raster images in `img src`, schemes decided
//! as parsed; relative URLs resolved against the item's own address; control, bidi-override
//! and XML-illegal characters dropped; size capped.

use std::borrow::Cow;
use std::collections::HashSet;
use url::Url;

/// Sanitized bodies longer than this are not kept (the summary still is).
pub(crate) const MAX_CONTENT_BYTES: usize = 200 * 1024;

const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "data"];

/// The only `data:` URLs kept, and only as an `img src`: raster images (no SVG, which can
/// script).
const DATA_IMAGE_TYPES: &[&str] = &["image/png", "image/gif", "image/jpeg", "image/webp"];

/// Attributes whose value a browser follows or loads as a URL.
fn is_url_attribute(element: &str, attribute: &str) -> bool {
    matches!(
        attribute,
        "href"
            | "src"
            | "xlink:href"
            | "action"
            | "formaction"
            | "poster"
            | "ping"
            | "cite"
            | "longdesc"
            | "background"
    ) || (element == "object" && attribute == "data")
}

/// Decides a URL attribute on the scheme as a browser parses it (entities already decoded by
/// the HTML parser; tabs, newlines and padding removed and the scheme lowercased by the URL
/// parser), so `da&#9;ta:`, `java\nscript:`, `JaVaScRiPt:` or ` javascript:` are the schemes
/// they spell. http(s) and mailto links stay, written as parsed; `data:` only for raster
/// images in `img src`; relative references are left for ammonia to resolve against the
/// item's address; anything else is dropped.
fn url_filter<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    if !is_url_attribute(element, attribute) {
        return Some(value.into());
    }
    match Url::parse(value) {
        Ok(url) => match url.scheme() {
            "http" | "https" | "mailto" => Some(url.as_str().to_owned().into()),
            "data" if element == "img" && attribute == "src" && is_data_image(&url) => {
                Some(url.as_str().to_owned().into())
            }
            _ => None,
        },
        Err(url::ParseError::RelativeUrlWithoutBase) => Some(value.into()),
        Err(_) => None,
    }
}

/// `data:image/png;base64,...` and the like: the media type before `;` or `,`.
fn is_data_image(url: &Url) -> bool {
    let media_type = url.path().split([';', ',']).next().unwrap_or("").trim();
    DATA_IMAGE_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(media_type))
}

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
        .attribute_filter(url_filter);
    let clean = builder.clean(html).to_string();
    let clean = super::clean::clean_text(&clean, super::clean::Field::Multiline);
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

    #[test]
    fn schemes_are_decided_as_parsed() {
        for url in [
            "da&#9;ta:text/html,<b>x</b>",
            "da&Tab;ta:text/html,x",
            "data&#x0A;:text/html,x",
            "&#1;data:text/html,x",
            "\u{1}data:text/html,x",
            "DaTa:text/html,x",
            " data:text/html,x",
            "java\nscript:alert(1)",
            "java&#9;script:alert(1)",
            "JaVaScRiPt:alert(1)",
            "&#106;&#97;vascript:alert(1)",
            "javascript&colon;alert(1)",
            " \t javascript:alert(1)",
            "vbscript:msgbox(1)",
        ] {
            let out = clean(&format!(
                r#"<p>x<a href="{url}">a</a><img src="{url}" alt="i"></p>"#
            ));
            assert!(
                !out.contains("href=") && !out.contains("src="),
                "{url:?} survived: {out}"
            );
        }
    }

    #[test]
    fn data_urls_only_for_raster_images_in_img_src() {
        let out = clean(
            r#"<img src="data:image/gif;base64,R0lG"><img src="da&#9;ta:image/webp;base64,UklG"><img src="data:image/svg+xml,<svg onload=alert(1)>"><img src="data:image/png;base64,AAAA" alt="ok"><a href="data:image/png;base64,AAAA">link</a>"#,
        );
        assert!(
            out.contains(r#"<img src="data:image/gif;base64,R0lG">"#),
            "{out}"
        );
        // Written as parsed: the tab is gone.
        assert!(
            out.contains(r#"<img src="data:image/webp;base64,UklG">"#),
            "{out}"
        );
        assert!(!out.contains("svg"), "{out}");
        assert!(!out.contains("href=\"data"), "{out}");
        assert_eq!(out.matches("src=\"data:").count(), 3, "{out}");
    }

    #[test]
    fn control_and_bidi_characters_are_dropped() {
        assert_eq!(
            clean("<p>a\u{202E}b\u{2066}c\u{85}d\u{7F}e\u{1B}f\u{200F}</p>"),
            "<p>abcdef\u{200F}</p>"
        );
    }
}
