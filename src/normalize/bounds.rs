//! How much of a source's text a story keeps: titles, authors, tags, text and HTML cut to
//! sizes a reader can use, by characters and at word boundaries, so a hostile feed cannot
//! make one story megabytes long.

use crate::model::Sighting;

pub(crate) const MAX_TITLE_CHARS: usize = 300;
pub(crate) const MAX_AUTHOR_CHARS: usize = 100;
pub(crate) const MAX_TAGS: usize = 20;
pub(crate) const MAX_TAG_CHARS: usize = 50;
/// Text kept to summarize and match (the summary itself is cut to its word budget).
pub(crate) const MAX_TEXT_CHARS: usize = 20_000;
/// Longest word a summary keeps whole; longer runs (a base64 blob, a 500 KB "word") are cut.
pub(crate) const MAX_WORD_CHARS: usize = 60;
/// Source HTML kept for full-content topics.
pub(crate) const MAX_HTML_BYTES: usize = 256 * 1024;

/// How much of a raw field (markup and entities included) an adapter reads before making
/// text of it: ample for the bound of the text made, so a 10 MB title is never copied whole.
pub(crate) const RAW_TITLE_BYTES: usize = MAX_TITLE_CHARS * 16;
pub(crate) const RAW_TEXT_BYTES: usize = MAX_TEXT_CHARS * 16;

/// The first `max_bytes` of `text` at most, cut on a character boundary.
pub(crate) fn raw_prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts every field of `s` to its bound.
pub(crate) fn bound_sighting(s: &mut Sighting) {
    cut(&mut s.title, MAX_TITLE_CHARS);
    if let Some(author) = &mut s.author {
        cut(author, MAX_AUTHOR_CHARS);
    }
    s.tags.truncate(MAX_TAGS);
    for tag in &mut s.tags {
        cut(tag, MAX_TAG_CHARS);
    }
    cut(&mut s.text, MAX_TEXT_CHARS);
    if let Some(html) = &mut s.html {
        if html.len() > MAX_HTML_BYTES {
            // Cut on a character boundary; the sanitizer closes what the cut leaves open.
            let mut end = MAX_HTML_BYTES;
            while !html.is_char_boundary(end) {
                end -= 1;
            }
            html.truncate(end);
        }
    }
}

/// Cuts `text` to at most `max` characters, at the last space before the limit when there
/// is one in its second half, and marks the cut with "…".
pub(crate) fn cut(text: &mut String, max: usize) {
    let Some((end, _)) = text.char_indices().nth(max) else {
        return;
    };
    let head = &text[..end];
    let end = match head.rfind(char::is_whitespace) {
        Some(space) if space > end / 2 => space,
        _ => end,
    };
    // Room for the mark within `max` characters.
    let mut kept: String = text[..end].trim_end().to_string();
    if kept.chars().count() >= max {
        kept = kept.chars().take(max.saturating_sub(1)).collect();
    }
    kept.push('…');
    *text = kept;
}

/// `text` with every word longer than `MAX_WORD_CHARS` cut to that length (with "…").
pub(crate) fn cut_long_words(text: &str) -> String {
    if !text
        .split_whitespace()
        .any(|w| w.chars().nth(MAX_WORD_CHARS).is_some())
    {
        return text.to_string();
    }
    text.split(' ')
        .map(|word| {
            let mut w = word.to_string();
            cut(&mut w, MAX_WORD_CHARS);
            w
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_prefix_never_splits_a_character() {
        assert_eq!(raw_prefix("aé", 2), "a", "é is two bytes");
        assert_eq!(raw_prefix("aé", 3), "aé");
        assert_eq!(raw_prefix("short", RAW_TITLE_BYTES), "short");
        let huge = "é".repeat(RAW_TITLE_BYTES);
        assert_eq!(raw_prefix(&huge, RAW_TITLE_BYTES).len(), RAW_TITLE_BYTES);
    }

    #[test]
    fn long_text_is_cut_at_a_word_boundary_within_its_bound() {
        let mut title = "word ".repeat(2_000_000);
        cut(&mut title, MAX_TITLE_CHARS);
        assert!(title.chars().count() <= MAX_TITLE_CHARS);
        assert!(title.ends_with("word…"), "{title}");
        let mut short = "Raft in practice".to_string();
        cut(&mut short, MAX_TITLE_CHARS);
        assert_eq!(short, "Raft in practice");
        let mut one_word = "x".repeat(1000);
        cut(&mut one_word, 10);
        assert_eq!(one_word, "xxxxxxxxx…");
        let mut multibyte = "é".repeat(500);
        cut(&mut multibyte, 5);
        assert_eq!(multibyte, "éééé…");
    }

    #[test]
    fn a_sighting_keeps_bounded_fields_and_a_summary_no_giant_word() {
        let mut s = Sighting {
            source: "f".into(),
            site: "feed:f".into(),
            site_name: "F".into(),
            item_id: None,
            url: "https://example.com/a".into(),
            title: "t".repeat(10_000_000),
            text: "y".repeat(500_000),
            html: Some("<p>".to_string() + &"z".repeat(1_000_000)),
            author: Some("a".repeat(5000)),
            tags: (0..1000)
                .map(|i| format!("{i}{}", "g".repeat(100)))
                .collect(),
            points: None,
            comments: None,
            discussion_url: None,
            published: None,
            fetched_at: chrono::Utc::now(),
            is_self_post: false,
        };
        bound_sighting(&mut s);
        assert!(s.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(s.author.as_ref().unwrap().chars().count() <= MAX_AUTHOR_CHARS);
        assert_eq!(s.tags.len(), MAX_TAGS);
        assert!(s.tags.iter().all(|t| t.chars().count() <= MAX_TAG_CHARS));
        assert!(s.text.chars().count() <= MAX_TEXT_CHARS);
        assert!(s.html.as_ref().unwrap().len() <= MAX_HTML_BYTES);
        let summary = cut_long_words(&format!("A {} word", "w".repeat(500_000)));
        assert_eq!(
            summary,
            format!("A {}… word", "w".repeat(MAX_WORD_CHARS - 1))
        );
    }
}
