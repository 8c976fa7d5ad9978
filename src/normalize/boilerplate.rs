//! Policy table of boilerplate that feeds append to their text and that no summary wants:
//! "Continue reading", "The post X appeared first on Y", comment and share links.

/// Paragraphs or sentence tails starting with one of these (case-insensitive) are dropped
/// along with everything after them in the paragraph.
pub(crate) const TRAILING_MARKERS: &[&str] = &[
    "continue reading",
    "read more",
    "read the full",
    "read the rest",
    "the post ",
    "this post appeared first",
    "[link]",
    "[comments]",
    "submitted by ",
    "comments",
    "share this:",
    "share on ",
    "like this:",
    "related posts",
    "article url:",
    "comments url:",
    "points:",
    "# comments:",
];

/// Whole paragraphs equal to one of these (ignoring case and trailing punctuation) are dropped.
pub(crate) const WHOLE_PARAGRAPHS: &[&str] = &["comments", "link", "permalink", "...", "…", "more"];

/// True when `tail` (the text at a sentence start) begins a boilerplate run.
pub(crate) fn starts_boilerplate(tail: &str) -> bool {
    let lower = tail.trim_start().to_lowercase();
    if let Some(rest) = lower.strip_prefix("the post ") {
        // Only "The post X appeared first on Y", not a sentence about a post.
        return rest.contains("appeared first on");
    }
    if lower == "comments" || lower.starts_with("comments ") || lower.starts_with("comments:") {
        return true;
    }
    TRAILING_MARKERS
        .iter()
        .filter(|m| **m != "the post " && **m != "comments")
        .any(|m| lower.starts_with(m))
}

/// True when a paragraph carries nothing but boilerplate.
pub(crate) fn is_boilerplate_paragraph(paragraph: &str) -> bool {
    let trimmed = paragraph
        .trim()
        .trim_end_matches(['.', ':', '»', '→', ' '])
        .to_lowercase();
    WHOLE_PARAGRAPHS.contains(&trimmed.as_str()) || starts_boilerplate(&trimmed)
}
