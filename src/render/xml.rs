//! Escaping for XML and HTML output, and removal of characters XML 1.0 forbids. Every text
//! that came from a source goes through `escape` (markup written by hand) or, for the `rss`
//! and `atom_syndication` writers, which escape it themselves, `render::clean_stories`.

/// The declaration both XML feeds start with.
pub(crate) const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

use crate::normalize::clean::is_xml_char;

/// Escapes text for XML/HTML element content and attribute values, dropping characters that
/// are illegal in XML 1.0.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(&mut out, text);
    out
}

pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_illegal_characters() {
        assert_eq!(
            escape("</title><script>alert('x')</script>"),
            "&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("a]]>b & \"c\""), "a]]&gt;b &amp; &quot;c&quot;");
        assert_eq!(escape("bell\u{7}null\u{0}ok\u{FFFE}"), "bellnullok");
        assert_eq!(escape("tab\tnl\n"), "tab\tnl\n");
    }
}
