//! Recovery of feeds that are almost right: characters XML forbids are dropped, a bare `&`
//! becomes `&amp;`, an `<rss>` root
//! without a version gets one, a JSON Feed naming its version with `http://` gets `https://`.
//! Used only after a strict parse failed.

/// The repaired document, or `None` when there was nothing to repair.
pub(super) fn repair(xml: &str) -> Option<String> {
    let cleaned = drop_illegal_characters(xml);
    let text = cleaned.as_deref().unwrap_or(xml);
    let escaped = escape_bare_ampersands(text);
    let text = escaped.as_deref().unwrap_or(text);
    add_rss_version(text).or(escaped).or(cleaned)
}

/// Characters XML 1.0 forbids (most C0 controls), raw or as character references, are
/// dropped: they carry nothing a reader could see.
fn drop_illegal_characters(xml: &str) -> Option<String> {
    let legal = |c: char| matches!(c, '\t' | '\n' | '\r') || !c.is_control() || c as u32 >= 0x7f;
    let mut out = String::with_capacity(xml.len());
    let mut changed = false;
    let mut rest = xml;
    while let Some(c) = rest.chars().next() {
        if c == '&' && rest[1..].starts_with('#') {
            if let Some((code, len)) = char_reference(&rest[2..]) {
                if code.is_none_or(|c| !legal(c)) {
                    changed = true;
                    rest = &rest[2 + len..];
                    continue;
                }
            }
        }
        if legal(c) {
            out.push(c);
        } else {
            changed = true;
        }
        rest = &rest[c.len_utf8()..];
    }
    changed.then_some(out)
}

/// The character of a reference body such as `x1F;` or `65;`, and the body's length.
fn char_reference(body: &str) -> Option<(Option<char>, usize)> {
    let end = body.find(';').filter(|end| *end <= 10)?;
    let digits = &body[..end];
    let code = match digits.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some((char::from_u32(code), end + 1))
}

/// JSON Feed 1.0 documents often say `http://jsonfeed.org/version/1`; the spec says https.
pub(super) fn repair_json_feed(json: &str) -> Option<String> {
    let fixed = json.replacen(
        "\"http://jsonfeed.org/version/",
        "\"https://jsonfeed.org/version/",
        1,
    );
    (fixed != json).then_some(fixed)
}

/// `&` not starting a character or entity reference becomes `&amp;`. CDATA sections and
/// comments are left alone: a bare `&` is legal there.
fn escape_bare_ampersands(xml: &str) -> Option<String> {
    let mut out = String::with_capacity(xml.len() + 64);
    let mut changed = false;
    let mut rest = xml;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").map_or(after.len(), |i| i + 3);
            out.push_str(&rest[..9 + end]);
            rest = &after[end..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").map_or(after.len(), |i| i + 3);
            out.push_str(&rest[..4 + end]);
            rest = &after[end..];
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        if c == '&' && !starts_reference(&rest[1..]) {
            out.push_str("&amp;");
            changed = true;
        } else {
            out.push(c);
        }
        rest = chars.as_str();
    }
    changed.then_some(out)
}

/// True when `text` (just after an `&`) is `#123;`, `#x1F;` or `name;`.
fn starts_reference(text: &str) -> bool {
    let Some(end) = text.find(';').filter(|end| *end <= 32) else {
        return false;
    };
    let body = &text[..end];
    if let Some(num) = body.strip_prefix('#') {
        return match num.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()),
        };
    }
    let mut chars = body.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

fn add_rss_version(xml: &str) -> Option<String> {
    let at = xml.find("<rss")?;
    let tag_end = at + xml[at..].find('>')?;
    let tag = &xml[at..tag_end];
    let is_rss_root =
        tag.len() == 4 || tag[4..].starts_with(|c: char| c.is_whitespace() || c == '/');
    if !is_rss_root || tag.contains("version") {
        return None;
    }
    Some(format!(
        "{} version=\"2.0\"{}",
        &xml[..at + 4],
        &xml[at + 4..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_are_escaped_and_references_kept() {
        assert_eq!(
            repair("<t>Q&A &amp; a&b &#38; &#x26; &nbsp; <![CDATA[x & y]]> <!-- & --></t>")
                .unwrap(),
            "<t>Q&amp;A &amp; a&amp;b &#38; &#x26; &nbsp; <![CDATA[x & y]]> <!-- & --></t>"
        );
        assert_eq!(
            repair("<link>http://x/?a=1&b=2</link>").unwrap(),
            "<link>http://x/?a=1&amp;b=2</link>"
        );
    }

    #[test]
    fn illegal_characters_are_dropped() {
        assert_eq!(
            repair("<t>a\u{0}b&#x7;c&#0;d&#x9;e&#65;</t>").unwrap(),
            "<t>abcd&#x9;e&#65;</t>"
        );
        assert_eq!(repair("<t>ok</t>"), None);
    }

    #[test]
    fn json_feed_version_over_http() {
        assert_eq!(
            repair_json_feed(r#"{"version": "http://jsonfeed.org/version/1", "items": []}"#)
                .unwrap(),
            r#"{"version": "https://jsonfeed.org/version/1", "items": []}"#
        );
        assert_eq!(
            repair_json_feed(r#"{"version": "https://jsonfeed.org/version/1.1"}"#),
            None
        );
    }

    #[test]
    fn rss_without_version() {
        assert_eq!(
            repair("<rss><channel/></rss>").unwrap(),
            "<rss version=\"2.0\"><channel/></rss>"
        );
        assert_eq!(
            repair("<rss xmlns:a=\"x\">").unwrap(),
            "<rss version=\"2.0\" xmlns:a=\"x\">"
        );
        assert_eq!(repair("<rss version=\"0.91\"><channel/></rss>"), None);
        assert_eq!(repair("<rsstuff/>"), None);
    }
}
