//! Bytes to UTF-8: the charset comes from a byte-order mark, then the Content-Type header,
//! then the XML prolog; bytes that already are valid UTF-8 win over a wrong declaration.
//! The prolog is rewritten to say UTF-8 so no parser decodes the text a second time.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use std::borrow::Cow;

/// The body as UTF-8, and the name of the encoding it was decoded from.
pub fn to_utf8<'a>(bytes: &'a [u8], content_type: Option<&str>) -> (Cow<'a, [u8]>, &'static str) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (owned(declare_utf8(&text)), encoding.name());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return match prolog_encoding(bytes) {
            Some(label) if !is_utf8_label(&label) => (owned(declare_utf8(text)), UTF_8.name()),
            _ => (Cow::Borrowed(bytes), UTF_8.name()),
        };
    }
    // The bytes are not UTF-8, so a declaration of UTF-8 is wrong, and an unknown label is
    // no declaration: either way the next declaration (header, then prolog) decides.
    let declared = [
        content_type.and_then(header_charset),
        prolog_encoding(bytes),
    ]
    .into_iter()
    .flatten()
    .filter_map(|label| Encoding::for_label(label.as_bytes()))
    .find(|e| *e != UTF_8);
    // Invalid UTF-8 with no usable declaration: windows-1252 is what such feeds almost always are.
    let encoding = declared.unwrap_or(WINDOWS_1252);
    let (text, _, _) = encoding.decode(bytes);
    (owned(declare_utf8(&text)), encoding.name())
}

fn owned(text: Cow<'_, str>) -> Cow<'static, [u8]> {
    Cow::Owned(text.into_owned().into_bytes())
}

fn is_utf8_label(label: &str) -> bool {
    Encoding::for_label(label.as_bytes()) == Some(UTF_8)
}

/// `charset` parameter of a Content-Type value.
fn header_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// `encoding` of the `<?xml ...?>` declaration, if the document starts with one.
fn prolog_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(512)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Rewrites the prolog's encoding declaration (if any) to UTF-8.
fn declare_utf8(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start();
    let Some(decl_end) = trimmed.strip_prefix("<?xml").and_then(|d| d.find("?>")) else {
        return Cow::Borrowed(text);
    };
    let lead = text.len() - trimmed.len();
    let decl = &trimmed[..decl_end + 5 + 2];
    let Some(enc_at) = decl.find("encoding") else {
        return Cow::Borrowed(text);
    };
    let rest = &decl[enc_at..];
    let Some(open) = rest.find(['"', '\'']) else {
        return Cow::Borrowed(text);
    };
    let quote = &rest[open..open + 1];
    let Some(close) = rest[open + 1..].find(quote) else {
        return Cow::Borrowed(text);
    };
    let start = lead + enc_at + open + 1;
    let end = start + close;
    Cow::Owned(format!("{}UTF-8{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
        let (b, name) = to_utf8(bytes, content_type);
        (String::from_utf8(b.into_owned()).unwrap(), name)
    }

    #[test]
    fn latin1_declared_only_in_the_prolog() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>caf\xe9</t>";
        assert_eq!(
            decoded(body, Some("application/xml")),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>café</t>".into(),
                "windows-1252"
            )
        );
    }

    #[test]
    fn windows_1252_declared_only_in_content_type() {
        let body = b"<?xml version=\"1.0\"?><t>\x93quoted\x94 \x80</t>";
        assert_eq!(
            decoded(body, Some("text/xml; charset=windows-1252")).0,
            "<?xml version=\"1.0\"?><t>\u{201c}quoted\u{201d} €</t>"
        );
    }

    #[test]
    fn an_unusable_header_charset_leaves_the_prolog_to_decide() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><t>\xb1\xe6</t>";
        let want = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>\u{105}\u{107}</t>";
        // Unknown label.
        assert_eq!(decoded(body, Some("text/xml; charset=none")).0, want);
        // Says UTF-8, but the bytes are not.
        assert_eq!(
            decoded(body, Some("text/xml; charset=utf-8")),
            (want.into(), "ISO-8859-2")
        );
        // A usable header charset still comes first.
        assert_eq!(
            decoded(body, Some("text/xml; charset=windows-1252")).0,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>\u{b1}\u{e6}</t>"
        );
    }

    #[test]
    fn valid_utf8_wins_over_a_wrong_declaration() {
        let body = "<?xml version='1.0' encoding='ISO-8859-1'?><t>café</t>".as_bytes();
        assert_eq!(
            decoded(body, Some("text/xml; charset=iso-8859-1")).0,
            "<?xml version='1.0' encoding='UTF-8'?><t>café</t>"
        );
        let plain = "<t>naïve</t>".as_bytes();
        assert!(matches!(to_utf8(plain, None).0, Cow::Borrowed(_)));
    }

    #[test]
    fn byte_order_marks() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "<t>é</t>".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decoded(&utf16, None), ("<t>é</t>".into(), "UTF-16LE"));
        assert_eq!(decoded(b"\xef\xbb\xbf<t/>", None).0, "<t/>");
    }

    #[test]
    fn invalid_utf8_without_declaration_falls_back_to_windows_1252() {
        assert_eq!(decoded(b"<t>caf\xe9</t>", None).0, "<t>café</t>");
    }
}
