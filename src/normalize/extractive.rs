//! Extractive summaries of article text: every sentence is scored by its position (lead
//! bias), the salience of its words across the article, and the topic keywords it holds;
//! the best 2-4 sentences within the word budget are kept, in their original order.

use super::boilerplate::starts_boilerplate;
use super::summary::split_sentences;
use super::text::tokenize;
use std::collections::{HashMap, HashSet};

/// Words too common to say what an article is about.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "are", "was", "were", "but", "not", "you", "your",
    "our", "its", "it's", "from", "have", "has", "had", "they", "their", "them", "there", "then",
    "than", "which", "what", "when", "where", "who", "will", "would", "can", "could", "should",
    "about", "into", "out", "all", "any", "some", "more", "most", "also", "just", "one", "two",
    "how", "why", "been", "being", "over", "such", "only", "very", "other", "these", "those",
    "each", "both", "after", "before", "because", "while", "many", "much", "may", "might", "does",
    "did", "doing", "here", "his", "her", "she", "him", "ours", "yours", "let", "like", "use",
    "used", "using", "get", "got", "make", "made", "way",
];

const MIN_WORDS: usize = 5;
const MAX_SENTENCES: usize = 4;
/// Beyond the best two, a sentence must score at least this share of the best one.
const EXTRA_SENTENCE_SHARE: f64 = 0.5;

struct Sentence<'a> {
    text: &'a str,
    words: usize,
    score: f64,
}

/// A summary of `paragraphs` of at most `max_words` words; `keywords` (lower-case words of
/// the topics the story belongs to) raise the sentences that mention them.
pub(crate) fn summarize_article(
    paragraphs: &[String],
    keywords: &HashSet<String>,
    max_words: usize,
) -> String {
    let raw: Vec<&str> = paragraphs
        .iter()
        .flat_map(|p| split_sentences(p))
        .take_while(|s| !starts_boilerplate(s))
        .filter(|s| s.split_whitespace().count() >= MIN_WORDS)
        .collect();
    if raw.is_empty() {
        return String::new();
    }
    let token_lists: Vec<Vec<String>> = raw.iter().map(|s| content_words(s)).collect();
    let mut frequency: HashMap<&str, f64> = HashMap::new();
    for tokens in &token_lists {
        for t in tokens.iter().collect::<HashSet<_>>() {
            *frequency.entry(t.as_str()).or_default() += 1.0;
        }
    }
    let sentences: Vec<Sentence> = raw
        .iter()
        .zip(&token_lists)
        .enumerate()
        .map(|(position, (text, tokens))| {
            let distinct: HashSet<&str> = tokens.iter().map(String::as_str).collect();
            let salience = distinct.iter().map(|t| frequency[t] - 1.0).sum::<f64>()
                / (distinct.len() as f64 + 4.0);
            let topical = distinct
                .iter()
                .filter(|t| keywords.contains(**t))
                .count()
                .min(3) as f64;
            let lead = 1.0 / (1.0 + position as f64 / 2.0);
            Sentence {
                text,
                words: text.split_whitespace().count(),
                score: 2.0 * lead + salience + 0.6 * topical,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|a, b| {
        sentences[*b]
            .score
            .total_cmp(&sentences[*a].score)
            .then(a.cmp(b))
    });
    let mut chosen = Vec::new();
    let mut words = 0;
    let best = sentences[order[0]].score;
    for i in order {
        if chosen.len() == MAX_SENTENCES {
            break;
        }
        let worth_it = chosen.len() < 2 || sentences[i].score >= EXTRA_SENTENCE_SHARE * best;
        if worth_it && words + sentences[i].words <= max_words {
            words += sentences[i].words;
            chosen.push(i);
        }
    }
    if chosen.is_empty() {
        // Even the best sentence is over budget: fall back to the plain lead cut.
        return super::summary::summarize(sentences[0].text, max_words);
    }
    chosen.sort_unstable();
    chosen
        .iter()
        .map(|i| sentences[*i].text)
        .collect::<Vec<_>>()
        .join(" ")
}

fn content_words(sentence: &str) -> Vec<String> {
    tokenize(sentence)
        .into_iter()
        .filter(|t| t.chars().count() > 2 && !STOPWORDS.contains(&t.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraphs() -> Vec<String> {
        vec![
            "The Artemis II mission features a highly fault-tolerant computing architecture. Engineers spent a decade on it.".into(),
            "Lunch at the cafeteria was tacos on Tuesday, which everyone enjoyed a great deal.".into(),
            "The flight computers use eight CPUs running in parallel, so the fault-tolerant design survives two failures. Each computer votes on every command.".into(),
            "Continue reading about our cafeteria menu on the next page please.".into(),
        ]
    }

    #[test]
    fn picks_lead_and_salient_sentences_in_order() {
        let keywords: HashSet<String> = ["fault", "tolerant"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let summary = summarize_article(&paragraphs(), &keywords, 60);
        assert!(
            summary.starts_with(
                "The Artemis II mission features a highly fault-tolerant computing architecture."
            ),
            "{summary}"
        );
        assert!(
            summary.contains("eight CPUs running in parallel"),
            "{summary}"
        );
        assert!(!summary.contains("tacos"), "{summary}");
        assert!(!summary.contains("Continue reading"), "{summary}");
        assert!(summary.split_whitespace().count() <= 60);
    }

    #[test]
    fn respects_the_word_budget_with_whole_sentences() {
        let summary = summarize_article(&paragraphs(), &HashSet::new(), 20);
        assert_eq!(summary, "The Artemis II mission features a highly fault-tolerant computing architecture. Engineers spent a decade on it.");
        assert_eq!(summarize_article(&[], &HashSet::new(), 60), "");
    }

    #[test]
    fn non_english_text() {
        let p = vec!["Le protocole Raft est un algorithme de consensus conçu pour être compréhensible. Il élit un leader, puis réplique le journal sur les autres nœuds. La météo était belle ce jour-là à Paris.".to_string()];
        let keywords: HashSet<String> = ["consensus", "raft"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let summary = summarize_article(&p, &keywords, 30);
        assert!(
            summary.starts_with("Le protocole Raft est un algorithme de consensus"),
            "{summary}"
        );
        assert!(summary.split_whitespace().count() <= 30);
    }
}
