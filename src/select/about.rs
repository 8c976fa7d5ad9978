//! The semantic rule of a topic (`[topic.about]`): phrases and example stories whose
//! embeddings a story's embedding is compared with. The story's similarity is its best cosine
//! with any of them; at or above `threshold` it adds `weight` toward `min_relevance`.

use crate::model::Story;
use crate::semantic::QuantizedEmbedding;
use std::fmt;

/// Similarity at which the rule counts when the config does not say: all-MiniLM-L6-v2 gives
/// unrelated developer stories 0.0–0.25 and stories on the phrase's subject 0.4 and more.
pub const DEFAULT_THRESHOLD: f32 = 0.40;

/// One phrase or example, with its embedding once the model has given it one.
#[derive(Clone, PartialEq)]
pub struct AboutPhrase {
    /// The phrase as written, or the example (a title or a story URL).
    pub text: String,
    /// An example given as a URL: its story's embedding is used.
    pub is_url: bool,
    pub vector: Option<QuantizedEmbedding>,
}

#[derive(Clone, PartialEq)]
pub struct AboutRule {
    pub phrases: Vec<AboutPhrase>,
    pub threshold: f32,
    /// What a similar story adds toward `min_relevance`.
    pub weight: f64,
}

/// Leaves the vectors out (they are derived from the text) but says how many phrases have
/// one: the index fingerprint reads this, so it changes with phrases, threshold, weight, and
/// when the model becomes available or goes missing, and stays the same across restarts.
impl fmt::Debug for AboutRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.phrases.iter().map(|p| p.text.as_str()).collect();
        f.debug_struct("AboutRule")
            .field("phrases", &texts)
            .field("threshold", &self.threshold)
            .field("weight", &self.weight)
            .field("embedded", &self.embedded())
            .finish()
    }
}

impl fmt::Debug for AboutPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

/// How a story compares with the rule, for explanations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SemanticMatch {
    /// Best cosine similarity with a phrase or example.
    pub similarity: f32,
    /// The phrase or example it is closest to.
    pub nearest: String,
    pub threshold: f32,
    /// What it adds toward `min_relevance` (0 below the threshold).
    pub contribution: f64,
}

impl AboutRule {
    /// How many phrases and examples have an embedding.
    pub fn embedded(&self) -> usize {
        self.phrases.iter().filter(|p| p.vector.is_some()).count()
    }

    /// True when the rule can judge stories (the model gave its phrases embeddings); false
    /// means the topic falls back to keywords.
    pub fn is_active(&self) -> bool {
        self.embedded() > 0
    }

    /// The story's best similarity and nearest phrase; `None` when the story has no
    /// embedding yet or no phrase has one.
    pub fn compare(&self, story: &Story) -> Option<SemanticMatch> {
        let stored = story.embedding.as_ref()?;
        let vector = QuantizedEmbedding::from_bytes(&stored.vector)?;
        let (similarity, nearest) = self
            .phrases
            .iter()
            .filter_map(|p| p.vector.as_ref().map(|v| (v.cosine(&vector), p)))
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        let contribution = if similarity >= self.threshold {
            self.weight
        } else {
            0.0
        };
        Some(SemanticMatch {
            similarity,
            nearest: nearest.text.clone(),
            threshold: self.threshold,
            contribution,
        })
    }

    /// What the story adds toward `min_relevance`.
    pub fn contribution(&self, story: &Story) -> f64 {
        self.compare(story).map_or(0.0, |m| m.contribution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Article, StoredEmbedding};
    use crate::select::{Term, TopicRules};
    use crate::semantic::{model_files, Embedder};
    use chrono::{TimeZone, Utc};
    use std::path::Path;
    use std::sync::OnceLock;

    /// The real model, loaded once; the tests fail (never skip) without it.
    fn embedder() -> &'static Embedder {
        static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
        EMBEDDER.get_or_init(|| {
            let dir = model_files::dev_model_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
            Embedder::load(&dir).unwrap_or_else(|e| {
                panic!("the [topic.about] tests need the real all-MiniLM-L6-v2 in {} (run scripts/fetch-model.sh or set FEEDSIFT_MODEL_DIR): {e}", dir.display())
            })
        })
    }

    /// A story with its embedding computed as the embedding chore would.
    fn story(title: &str, summary: &str, excerpt: Option<&str>) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        let mut s = Story {
            summary: summary.into(),
            article: excerpt.map(|e| Article {
                excerpt: e.to_string(),
            }),
            ..Story::bare(title, at)
        };
        let text = s.embedding_text();
        s.embedding = Some(StoredEmbedding {
            text_hash: crate::model::text_hash(&text),
            vector: embedder().embed(&text).quantize().to_bytes().to_vec(),
        });
        s
    }

    fn distributed_systems() -> TopicRules {
        let phrases = [
            "consensus algorithms such as Raft and Paxos",
            "replication and fault tolerance in distributed databases",
        ];
        TopicRules {
            keywords: vec![
                Term::new("distributed", 1.0).unwrap(),
                Term::new("raft", 3.0).unwrap(),
            ],
            exclude: vec![Term::new("sponsored", 1.0).unwrap()],
            min_relevance: 3.0,
            about: Some(AboutRule {
                phrases: phrases
                    .iter()
                    .map(|p| AboutPhrase {
                        text: p.to_string(),
                        is_url: false,
                        vector: Some(embedder().embed(p).quantize()),
                    })
                    .collect(),
                threshold: DEFAULT_THRESHOLD,
                weight: 3.0,
            }),
            ..TopicRules::default()
        }
    }

    const REPLICATION: &str = "We replicate every write to three nodes and wait for a quorum \
        of acknowledgements before committing. When the leader fails, a follower with the most \
        up-to-date log is elected and takes over, so no acknowledged write is lost.";

    #[test]
    fn a_neutral_title_is_admitted_through_its_excerpt_by_similarity() {
        let rules = distributed_systems();
        let s = story("What we learned this year", "", Some(REPLICATION));
        let v = rules.evaluate(&s);
        let m = v.semantic.clone().expect("a similarity");
        assert!(v.matched.is_empty(), "{v:?}");
        assert!(m.similarity >= DEFAULT_THRESHOLD, "{m:?}");
        assert_eq!(m.contribution, 3.0);
        assert_eq!(
            m.nearest,
            "replication and fault tolerance in distributed databases"
        );
        assert!(v.passes && rules.passes(&s), "{v:?}");
        // Without an embedding it is judged on keywords alone.
        let mut bare = s.clone();
        bare.embedding = None;
        let v = rules.evaluate(&bare);
        assert!(v.semantic.is_none() && !v.passes && !rules.passes(&bare));
    }

    #[test]
    fn a_keyword_trap_about_machine_learning_stays_out() {
        let rules = distributed_systems();
        let s = story(
            "Distributed Representations of Words and Phrases",
            "",
            Some(
                "We train a skip-gram neural network language model on a large text corpus \
                 and learn word vectors whose arithmetic captures analogies, improving \
                 embedding quality with negative sampling.",
            ),
        );
        let v = rules.evaluate(&s);
        let m = v.semantic.clone().expect("a similarity");
        assert!(m.similarity < DEFAULT_THRESHOLD, "{m:?}");
        assert_eq!(m.contribution, 0.0);
        assert_eq!(v.relevance, 1.0, "only `distributed` matched: {v:?}");
        assert!(!v.passes && !rules.passes(&s));
    }

    #[test]
    fn an_excluded_term_still_excludes_a_similar_story() {
        let rules = distributed_systems();
        let s = story(
            "Sponsored: what we learned this year",
            "",
            Some(REPLICATION),
        );
        let v = rules.evaluate(&s);
        assert!(v.semantic.as_ref().unwrap().contribution > 0.0, "{v:?}");
        assert!(v.relevant);
        assert_eq!(v.excluded_by, ["sponsored"]);
        assert!(!v.passes && !rules.passes(&s));
    }

    #[test]
    fn the_fingerprint_text_follows_the_rule_not_the_vectors() {
        let a = distributed_systems().about.unwrap();
        let mut b = a.clone();
        b.phrases[0].vector = Some(embedder().embed("something else").quantize());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        b.threshold = 0.5;
        assert_ne!(format!("{a:?}"), format!("{b:?}"));
        let mut c = a.clone();
        c.phrases.iter_mut().for_each(|p| p.vector = None);
        assert_ne!(format!("{a:?}"), format!("{c:?}"), "falling back shows");
        assert!(!c.is_active());
    }
}
