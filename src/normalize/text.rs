//! Plain text out of source markup: HTML to text (scripts and styles dropped, entities
//! decoded, block boundaries kept as paragraph breaks) and title clean-up.

/// Elements whose content is never text a reader should see.
const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head", "select",
    "button", "form",
];

/// Elements that end a paragraph: their boundaries become paragraph breaks.
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "hr",
    "dd",
    "dt",
    "dl",
    "aside",
    "nav",
    "main",
];

/// Collapses every run of whitespace to one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    collapse(text, char::is_whitespace)
}

/// `text` with every run of characters `is_gap` says are gaps as one space, trimmed. One pass
/// into one string: ingest calls it for every paragraph of every entry.
fn collapse(text: &str, is_gap: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if is_gap(c) {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push(c);
        }
    }
    out
}

/// A title as readers should see it: entities decoded (once; feeds that double-escape get
/// one more pass when the first leaves only an entity behind), control characters dropped,
/// whitespace collapsed.
pub fn clean_title(raw: &str) -> String {
    // Only what can survive the title's bound is worth decoding: a 10 MB title is not copied.
    let raw = super::bounds::raw_prefix(raw, super::bounds::RAW_TITLE_BYTES);
    let once = html_escape::decode_html_entities(raw);
    let decoded = if looks_entity_escaped(&once) {
        html_escape::decode_html_entities(&once).into_owned()
    } else {
        once.into_owned()
    };
    let no_controls: String = decoded.chars().filter(|c| !c.is_control()).collect();
    collapse_whitespace(&no_controls)
}

fn looks_entity_escaped(text: &str) -> bool {
    text.contains("&#") || text.contains("&quot;") || text.contains("&amp;")
}

/// Text of an HTML fragment, with paragraph breaks as `\n\n` and other whitespace collapsed
/// inside each paragraph. Tolerates broken markup: an unclosed `<` is kept as text.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        if let Some(comment) = after.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(gt) = tag_end(after) else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = &after[1..gt];
        let name = tag_name(tag);
        if name.is_empty() {
            // "a < b" or "<3": not markup.
            out.push('<');
            rest = &after[1..];
            continue;
        }
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        if !closing && SKIPPED_ELEMENTS.contains(&name.as_str()) && !tag.ends_with('/') {
            rest = skip_past_closing(rest, &name);
            continue;
        }
        if BLOCK_ELEMENTS.contains(&name.as_str()) {
            out.push_str("\n\n");
        } else {
            out.push(' ');
        }
    }
    out.push_str(rest);
    let decoded = html_escape::decode_html_entities(&out);
    paragraphs(&decoded).join("\n\n")
}

/// Splits text on blank lines, collapsing whitespace inside each paragraph.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| collapse(p, |c| c.is_whitespace() || c.is_control()))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Index of the `>` closing the tag that starts `text`, skipping quoted attribute values
/// (`<a href="x>y">` ends at the last `>`).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') if i > 1 => return None,
            _ => {}
        }
    }
    None
}

fn tag_name(tag: &str) -> String {
    tag.trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn skip_past_closing<'a>(rest: &'a str, name: &str) -> &'a str {
    let closing = format!("</{name}");
    let lower = rest.to_ascii_lowercase();
    match lower.find(&closing) {
        Some(at) => {
            let tail = &rest[at..];
            tail.find('>').map_or("", |gt| &tail[gt + 1..])
        }
        None => "",
    }
}

/// Lower-case word tokens. A word is a run of letters and digits, keeping a trailing `+` or
/// `#` so "C++" and "C#" stay distinct from "C"; separators such as `-`, `.`, `_` split words.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if (c == '+' || c == '#') && !current.is_empty() {
            current.push(c);
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to five characters over whitespace of several kinds (ASCII, tab,
    /// newline, no-break space, ideographic space), control characters and letters.
    fn short_strings() -> Vec<String> {
        let alphabet = [
            'a', 'é', ' ', '\t', '\n', '\u{a0}', '\u{3000}', '\u{1}', '\u{85}',
        ];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn collapsing_is_splitting_on_whitespace_and_joining_with_spaces() {
        for s in short_strings() {
            let words: Vec<&str> = s.split_whitespace().collect();
            assert_eq!(collapse_whitespace(&s), words.join(" "), "{s:?}");
            let no_controls: String = s
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let words: Vec<&str> = no_controls.split_whitespace().collect();
            assert_eq!(
                collapse(&s, |c| c.is_whitespace() || c.is_control()),
                words.join(" "),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_huge_title_is_cleaned_from_its_first_kilobytes_only() {
        let huge = "caf&eacute; ".repeat(1_000_000);
        let title = clean_title(&huge);
        assert!(
            title.len() <= super::super::bounds::RAW_TITLE_BYTES,
            "{}",
            title.len()
        );
        assert!(title.starts_with("café café"), "{}", &title[..40]);
    }

    #[test]
    fn titles_are_decoded_and_collapsed() {
        assert_eq!(
            clean_title("  Raft &amp; Paxos\n\t compared "),
            "Raft & Paxos compared"
        );
        assert_eq!(clean_title("Don&#x27;t panic"), "Don't panic");
        // Hacker News' RSS double-escapes: the XML layer leaves `&#x27;` behind.
        assert_eq!(clean_title("Don&amp;#x27;t panic"), "Don't panic");
        assert_eq!(clean_title("a\u{0}b\u{7}c"), "abc");
        assert_eq!(
            clean_title("Why <script> tags matter"),
            "Why <script> tags matter"
        );
    }

    #[test]
    fn html_becomes_paragraphs_of_text() {
        let html = "<h2>Intro</h2><p>Raft is a <b>consensus</b>\n algorithm.</p>\
                    <script>alert('x')</script><style>p{}</style><p>It&nbsp;uses &lt;terms&gt;.</p>";
        assert_eq!(
            html_to_text(html),
            "Intro\n\nRaft is a consensus algorithm.\n\nIt uses <terms>."
        );
    }

    #[test]
    fn broken_markup_is_tolerated() {
        assert_eq!(html_to_text("a < b and c"), "a < b and c");
        assert_eq!(html_to_text("tail <b"), "tail <b");
        assert_eq!(html_to_text("x<!-- hidden -->y"), "xy");
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(
            html_to_text("<a href=\"data:x,<b>y</b>\">link</a> after"),
            "link after"
        );
        assert_eq!(html_to_text("<a title='it > that'>t</a>"), "t");
    }
}
