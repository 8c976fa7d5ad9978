//! Characters no output carries, removed in one place: controls, bidi overrides and
//! isolates, and whatever XML 1.0 forbids. The sanitizer and every output format use it.

/// True for characters allowed in XML 1.0 documents.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// What may stand in a field: single-line fields (titles, links, names, tags) turn tab and
/// line breaks into spaces; multi-line ones (summary, body) keep tab and newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Line,
    Multiline,
}

/// Characters no output field carries: C0 controls (but tab/newline where the field allows
/// them), DEL and C1 controls, the bidi embeddings/overrides (U+202A-U+202E) and isolates
/// (U+2066-U+2069), and whatever else XML 1.0 forbids. The marks U+200E/U+200F/U+061C stay:
/// they reorder nothing beyond themselves and right-to-left titles need them.
fn is_dropped(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || !is_xml_char(c)
}

pub(crate) fn needs_cleaning(text: &str, field: Field) -> bool {
    text.chars()
        .any(|c| is_dropped(c) || c == '\r' || (field == Field::Line && matches!(c, '\t' | '\n')))
}

/// The text as every format writes it (see `is_dropped`); CR LF and lone CR become one
/// newline (a space in single-line fields).
pub(crate) fn clean_text(text: &str, field: Field) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' | '\n' | '\r' if field == Field::Line => out.push(' '),
            '\r' => out.push('\n'),
            c if is_dropped(c) => {}
            c => out.push(c),
        }
    }
    out
}
