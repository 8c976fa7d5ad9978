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
