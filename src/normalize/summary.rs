//! Short plain-text summaries: boilerplate dropped, text split into sentences (abbreviations,
//! decimals, versions and domain names are not boundaries), whole sentences kept up to a
//! word budget, and a mid-sentence cut only when the first sentence alone is too long.

use super::boilerplate::{is_boilerplate_paragraph, starts_boilerplate};
use super::text::paragraphs;

/// Default word budget for a summary.
pub const DEFAULT_SUMMARY_WORDS: usize = 60;
/// A summary is at most this many sentences.
const MAX_SENTENCES: usize = 4;

/// Words before a period that do not end a sentence (compared lower-case, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "cf", "vs", "dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "inc", "ltd",
    "co", "corp", "fig", "no", "vol", "approx", "a.m", "p.m", "u.s", "u.k", "ph.d", "al", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen", "gov",
    "sen", "rep", "mt", "est", "dept", "univ", "ca",
];

/// Inline markers that end the useful part of a sentence ("... Continue reading →").
const INLINE_CUTS: &[&str] = &[
    "continue reading",
    "read more",
    "[link]",
    "[comments]",
    "submitted by /u/",
    "submitted by u/",
];

/// A summary of `text` (plain text, paragraphs separated by blank lines) of at most
/// `max_words` words, made of whole sentences whenever the first sentence fits.
pub fn summarize(text: &str, max_words: usize) -> String {
    let max_words = max_words.max(1);
    let mut picked: Vec<String> = Vec::new();
    let mut words = 0;
    'paragraphs: for paragraph in paragraphs(text) {
        if is_boilerplate_paragraph(&paragraph) {
            continue;
        }
        for sentence in split_sentences(&paragraph) {
            if starts_boilerplate(sentence) {
                continue 'paragraphs;
            }
            let (sentence, was_cut) = cut_inline_boilerplate(sentence);
            let count = sentence.split_whitespace().count();
            if count == 0 {
                if was_cut {
                    continue 'paragraphs;
                }
                continue;
            }
            if words + count > max_words {
                if picked.is_empty() {
                    picked.push(cut_at_word(sentence, max_words));
                }
                break 'paragraphs;
            }
            words += count;
            picked.push(sentence.to_string());
            if picked.len() == MAX_SENTENCES {
                break 'paragraphs;
            }
            if was_cut {
                continue 'paragraphs;
            }
        }
    }
    picked.join(" ")
}

fn cut_inline_boilerplate(sentence: &str) -> (&str, bool) {
    let lower = sentence.to_lowercase();
    let cut = INLINE_CUTS.iter().filter_map(|m| lower.find(m)).min();
    match cut {
        // `to_lowercase` can change byte lengths for some scripts; only trust ASCII-safe cuts.
        Some(at) if lower.len() == sentence.len() && sentence.is_char_boundary(at) => {
            let kept = sentence[..at].trim_end_matches([' ', '-', '—', '|', '(']);
            (kept.trim_end(), true)
        }
        _ => (sentence, false),
    }
}

fn cut_at_word(sentence: &str, max_words: usize) -> String {
    let kept: Vec<&str> = sentence.split_whitespace().take(max_words).collect();
    let joined = kept.join(" ");
    let trimmed = joined.trim_end_matches([',', ';', ':', '-', '—', '(']);
    format!("{trimmed}…")
}

/// Splits one paragraph into sentences.
pub(crate) fn split_sentences(paragraph: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let wide_stop = matches!(c, '。' | '！' | '？');
        if !(wide_stop || matches!(c, '.' | '!' | '?' | '…')) {
            i += 1;
            continue;
        }
        // Swallow repeated terminators and closing quotes or brackets: `?!`, `."`, `.)`.
        let mut j = i + 1;
        while j < chars.len()
            && matches!(
                chars[j].1,
                '.' | '!' | '?' | '"' | '\'' | '”' | '’' | ')' | ']'
            )
        {
            j += 1;
        }
        let end = chars.get(j).map_or(paragraph.len(), |(b, _)| *b);
        let boundary = if wide_stop {
            true
        } else {
            let next_is_space = chars.get(j).is_none_or(|(_, n)| n.is_whitespace());
            let next_word_starts = chars[j..]
                .iter()
                .find(|(_, n)| !n.is_whitespace())
                .is_none_or(|(_, n)| starts_sentence(*n));
            next_is_space
                && next_word_starts
                && !(c == '.' && is_abbreviation(&paragraph[start..at]))
        };
        if boundary {
            let sentence = paragraph[start..end].trim();
            if !sentence.is_empty() {
                sentences.push(sentence);
            }
            start = end;
        }
        i = j;
    }
    let tail = paragraph[start..].trim();
    if !tail.is_empty() {
        sentences.push(tail);
    }
    sentences
}

fn starts_sentence(c: char) -> bool {
    c.is_uppercase()
        || c.is_numeric()
        || matches!(c, '"' | '\'' | '“' | '‘' | '(' | '[')
        || !c.is_alphabetic() && !c.is_ascii_punctuation()
}

/// True when the text before a period ends with an abbreviation or a single-letter initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    let single_initial = word.chars().count() == 1 && word.chars().all(|c| c.is_uppercase());
    single_initial || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_traps_are_not_boundaries() {
        let text = "Snapbyte.dev shipped v1.7.0 today, e.g. with 3.5x faster builds. \
                    Dr. Lamport wrote it, i.e. the Paxos author. See https://example.com/a.b for more! \
                    Is it ready? Yes.";
        assert_eq!(
            split_sentences(text),
            vec![
                "Snapbyte.dev shipped v1.7.0 today, e.g. with 3.5x faster builds.",
                "Dr. Lamport wrote it, i.e. the Paxos author.",
                "See https://example.com/a.b for more!",
                "Is it ready?",
                "Yes.",
            ]
        );
    }

    #[test]
    fn initials_and_quotes() {
        assert_eq!(
            split_sentences("Written by J. R. Smith. \"It works.\" Then it broke."),
            vec!["Written by J. R. Smith.", "\"It works.\"", "Then it broke."]
        );
        assert_eq!(
            split_sentences("分布式系统很难。共识算法更难。"),
            vec!["分布式系统很难。", "共识算法更难。"]
        );
    }

    #[test]
    fn keeps_whole_sentences_within_the_budget() {
        let text = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen.";
        assert_eq!(
            summarize(text, 10),
            "One two three four five. Six seven eight nine ten."
        );
        assert_eq!(
            summarize(text, 12),
            "One two three four five. Six seven eight nine ten."
        );
        assert_eq!(summarize(text, 60), text);
    }

    #[test]
    fn long_first_sentence_is_cut_at_a_word() {
        let text = "alpha beta gamma delta epsilon, zeta eta theta. Short one.";
        assert_eq!(summarize(text, 5), "alpha beta gamma delta epsilon…");
    }

    #[test]
    fn at_most_four_sentences() {
        let text = "A one. B two. C three. D four. E five.";
        assert_eq!(summarize(text, 60), "A one. B two. C three. D four.");
    }

    #[test]
    fn boilerplate_is_dropped() {
        let cases = [
            (
                "Raft elects a leader.\n\nThe post Raft explained appeared first on Some Blog.",
                "Raft elects a leader.",
            ),
            (
                "Raft elects a leader. Continue reading →",
                "Raft elects a leader.",
            ),
            (
                "Raft elects a leader… Continue reading",
                "Raft elects a leader…",
            ),
            (
                "Raft elects a leader, then… Continue reading →",
                "Raft elects a leader, then…",
            ),
            (
                "Raft elects a leader. submitted by /u/someone [link] [comments]",
                "Raft elects a leader.",
            ),
            ("Comments\n\nRaft elects a leader.", "Raft elects a leader."),
            (
                "Article URL: https://x.org/a Comments URL: https://y.org/b Points: 10",
                "",
            ),
            (
                "The post office opened. It was busy.",
                "The post office opened. It was busy.",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(summarize(input, 60), want, "for {input:?}");
        }
    }
}
