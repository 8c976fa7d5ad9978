//! Whole-word, case-insensitive term matching over tokenized text. A term is a word or a
//! phrase; it matches where its tokens appear consecutively ("CAP theorem" matches
//! "the CAP Theorem" but not "capital theorems").

use crate::normalize::tokenize;

/// Which part of a story a term matched in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Summary,
    Tags,
}

/// One compiled term with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term as written in the config.
    pub text: String,
    pub weight: f64,
    tokens: Vec<String>,
}

impl Term {
    /// Compiles a term; `None` when it holds no word characters at all.
    pub fn new(text: &str, weight: f64) -> Option<Term> {
        let tokens = tokenize(text);
        (!tokens.is_empty()).then(|| Term {
            text: text.to_string(),
            weight,
            tokens,
        })
    }

    fn found_in(&self, tokens: &[String]) -> bool {
        let n = self.tokens.len();
        tokens.len() >= n && tokens.windows(n).any(|w| w == self.tokens.as_slice())
    }
}

/// The tokenized text of one story: what terms are matched against.
#[derive(Debug, Default)]
pub(crate) struct Document {
    title: Vec<String>,
    summary: Vec<String>,
    /// Each tag separately, so a phrase never spans two tags.
    tags: Vec<Vec<String>>,
}

impl Document {
    pub(crate) fn new(title: &str, summary: &str, tags: &[String]) -> Document {
        Document {
            title: tokenize(title),
            summary: tokenize(summary),
            tags: tags.iter().map(|t| tokenize(t)).collect(),
        }
    }

    /// The first field (title, then summary, then tags) where `term` occurs.
    pub(crate) fn find(&self, term: &Term) -> Option<Field> {
        if term.found_in(&self.title) {
            Some(Field::Title)
        } else if term.found_in(&self.summary) {
            Some(Field::Summary)
        } else if self.tags.iter().any(|t| term.found_in(t)) {
            Some(Field::Tags)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str) -> Document {
        Document::new(title, "", &[])
    }

    #[test]
    fn whole_words_only() {
        let raft = Term::new("raft", 1.0).unwrap();
        assert!(doc("Raft, explained").find(&raft).is_some());
        assert!(doc("The RAFT protocol").find(&raft).is_some());
        assert!(doc("Aircraft design").find(&raft).is_none());
        assert!(doc("Rafting season").find(&raft).is_none());
    }

    #[test]
    fn phrases_match_consecutive_words() {
        let cap = Term::new("CAP theorem", 3.0).unwrap();
        assert!(doc("Revisiting the cap  Theorem").find(&cap).is_some());
        assert!(doc("CAP-theorem myths").find(&cap).is_some());
        assert!(doc("Capital theorems").find(&cap).is_none());
        assert!(doc("CAP is not a theorem").find(&cap).is_none());
    }

    #[test]
    fn symbols_in_language_names() {
        let cpp = Term::new("C++", 1.0).unwrap();
        assert!(doc("Modern C++ tips").find(&cpp).is_some());
        assert!(doc("Modern C tips").find(&cpp).is_none());
        assert!(doc("Why C# rocks")
            .find(&Term::new("c#", 1.0).unwrap())
            .is_some());
    }

    #[test]
    fn fields_are_reported_in_order_and_tags_are_separate() {
        let d = Document::new(
            "Intro",
            "All about consensus",
            &["distributed".into(), "systems".into()],
        );
        assert_eq!(
            d.find(&Term::new("consensus", 1.0).unwrap()),
            Some(Field::Summary)
        );
        assert_eq!(
            d.find(&Term::new("distributed", 1.0).unwrap()),
            Some(Field::Tags)
        );
        assert_eq!(
            d.find(&Term::new("distributed systems", 1.0).unwrap()),
            None
        );
        assert!(Term::new("  --  ", 1.0).is_none());
    }
}
