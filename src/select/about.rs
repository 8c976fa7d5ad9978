//! The semantic rule of a topic (`[topic.about]`): phrases and example stories whose
//! embeddings a story's embedding is compared with. The story's similarity is its best cosine
//! with any of them; at or above `threshold` it adds `weight` toward `min_relevance`. Phrases
//! of what the topic is not (`unlike`) veto: a story at least `threshold` similar to one of
//! them, and nearer it than any topic phrase by `unlike_margin`, is excluded whatever its
//! keywords.

use crate::model::Story;
use crate::semantic::QuantizedEmbedding;
use std::fmt;

/// Similarity at which the rule counts when the config does not say: all-MiniLM-L6-v2 gives
/// unrelated developer stories 0.0–0.25 and stories on the phrase's subject 0.4 and more.
pub const DEFAULT_THRESHOLD: f32 = 0.40;

/// How much nearer an `unlike` phrase than every topic phrase a story must be to be excluded
/// when the config does not say: enough that a story between the two is not thrown out.
pub const DEFAULT_UNLIKE_MARGIN: f32 = 0.05;

/// One phrase or example, with its embedding once the model has given it one.
#[derive(Clone, PartialEq)]
pub struct AboutPhrase {
    /// The phrase as written, or the example (a title or a story URL).
    pub text: String,
    /// An example given as a URL: its story's embedding is used.
    pub is_url: bool,
    /// Says what the topic is not (`unlike`).
    pub unlike: bool,
    pub vector: Option<QuantizedEmbedding>,
}

#[derive(Clone, PartialEq)]
pub struct AboutRule {
    pub phrases: Vec<AboutPhrase>,
    pub threshold: f32,
    /// What a similar story adds toward `min_relevance`.
    pub weight: f64,
    pub unlike_margin: f32,
}

/// Leaves the vectors out (they are derived from the text) but says how many phrases have
/// one: the index fingerprint reads this, so it changes with phrases, threshold, weight, and
/// when the model becomes available or goes missing, and stays the same across restarts.
impl fmt::Debug for AboutRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts = |unlike: bool| -> Vec<&str> {
            self.phrases
                .iter()
                .filter(|p| p.unlike == unlike)
                .map(|p| p.text.as_str())
                .collect()
        };
        f.debug_struct("AboutRule")
            .field("phrases", &texts(false))
            .field("unlike", &texts(true))
            .field("threshold", &self.threshold)
            .field("weight", &self.weight)
            .field("unlike_margin", &self.unlike_margin)
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
    /// What it adds toward `min_relevance` (0 below the threshold, or when an `unlike`
    /// phrase is nearer).
    pub contribution: f64,
    /// The nearest `unlike` phrase, when the rule has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlike: Option<NearestUnlike>,
    /// Nearer an `unlike` phrase than every topic phrase by the margin: out of the topic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub excluded: bool,
}

/// The `unlike` phrase a story is nearest to, and its similarity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NearestUnlike {
    pub phrase: String,
    pub similarity: f32,
}

impl AboutRule {
    /// How many phrases and examples have an embedding.
    pub fn embedded(&self) -> usize {
        self.phrases.iter().filter(|p| p.vector.is_some()).count()
    }

    /// True when the rule can judge stories (the model gave its topic phrases embeddings);
    /// false means the topic falls back to keywords.
    pub fn is_active(&self) -> bool {
        self.phrases.iter().any(|p| !p.unlike && p.vector.is_some())
    }

    /// The story's best similarity and nearest phrase; `None` when the story has no
    /// embedding yet or no topic phrase has one.
    pub fn compare(&self, story: &Story) -> Option<SemanticMatch> {
        let stored = story.embedding.as_ref()?;
        let vector = QuantizedEmbedding::from_bytes(&stored.vector)?;
        let nearest = |unlike: bool| {
            self.phrases
                .iter()
                .filter(|p| p.unlike == unlike)
                .filter_map(|p| p.vector.as_ref().map(|v| (v.cosine(&vector), p)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
        };
        let (similarity, phrase) = nearest(false)?;
        let unlike = nearest(true).map(|(similarity, p)| NearestUnlike {
            phrase: p.text.clone(),
            similarity,
        });
        let unlike_similarity = unlike.as_ref().map_or(f32::NEG_INFINITY, |u| u.similarity);
        let contribution = if similarity >= self.threshold && similarity > unlike_similarity {
            self.weight
        } else {
            0.0
        };
        Some(SemanticMatch {
            similarity,
            nearest: phrase.text.clone(),
            threshold: self.threshold,
            contribution,
            // Clearly about what the topic is not (as similar as a topic phrase must be),
            // and more so than about the topic.
            excluded: unlike_similarity >= self.threshold
                && unlike_similarity >= similarity + self.unlike_margin,
            unlike,
        })
    }

    /// What the story adds toward `min_relevance`, and whether an `unlike` phrase excludes it.
    pub fn judge(&self, story: &Story) -> (f64, bool) {
        self.compare(story)
            .map_or((0.0, false), |m| (m.contribution, m.excluded))
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
        tagged_story(title, summary, excerpt, &[])
    }

    fn tagged_story(title: &str, summary: &str, excerpt: Option<&str>, tags: &[&str]) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        let mut s = Story {
            summary: summary.into(),
            article: excerpt.map(|e| Article {
                excerpt: e.to_string(),
            }),
            tags: tags.iter().map(|t| t.to_string()).collect(),
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
                        unlike: false,
                        vector: Some(embedder().embed(p).quantize()),
                    })
                    .collect(),
                threshold: DEFAULT_THRESHOLD,
                weight: 3.0,
                unlike_margin: DEFAULT_UNLIKE_MARGIN,
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
    fn tags_tell_the_model_what_a_vague_story_is_about() {
        let rules = distributed_systems();
        let (title, summary) = (
            "Notes from our week",
            "What we worked on, and what comes next.",
        );
        let tagged = tagged_story(title, summary, None, &["consensus", "fault-tolerance"]);
        let untagged = story(title, summary, None);
        assert!(tagged
            .embedding_text()
            .starts_with("Notes from our week\nconsensus, fault-tolerance\n"));
        let with_tags = rules.evaluate(&tagged);
        let without = rules.evaluate(&untagged);
        let (a, b) = (
            with_tags.semantic.clone().unwrap(),
            without.semantic.clone().unwrap(),
        );
        assert!(
            a.similarity >= DEFAULT_THRESHOLD && b.similarity < DEFAULT_THRESHOLD,
            "{a:?} {b:?}"
        );
        assert!(
            with_tags.matched.is_empty() && with_tags.passes,
            "{with_tags:?}"
        );
        assert!(!without.passes, "{without:?}");
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

    /// The rules above with what the topic is not, and `DNS` as a strong keyword.
    fn with_unlike() -> TopicRules {
        let mut rules = distributed_systems();
        rules.keywords.push(Term::new("DNS", 3.0).unwrap());
        let about = rules.about.as_mut().unwrap();
        for p in [
            "setting up my home network and homelab",
            "a machine learning model and data science tutorial",
        ] {
            about.phrases.push(AboutPhrase {
                text: p.to_string(),
                is_url: false,
                unlike: true,
                vector: Some(embedder().embed(p).quantize()),
            });
        }
        rules
    }

    #[test]
    fn a_story_about_what_the_topic_is_not_is_excluded_whatever_its_keywords() {
        let rules = with_unlike();
        let home = story(
            "Setting up DNS at home",
            "",
            Some(
                "I finally set up a DNS server for my home network on a Raspberry Pi in the \
                 homelab rack, so every device in the house gets local names and ad blocking.",
            ),
        );
        let v = rules.evaluate(&home);
        let m = v.semantic.clone().unwrap();
        assert_eq!(
            v.relevance, 3.0,
            "the keyword alone reaches min_relevance: {v:?}"
        );
        assert!(m.excluded, "{m:?}");
        let unlike = m.unlike.as_ref().unwrap();
        assert_eq!(unlike.phrase, "setting up my home network and homelab");
        assert!(
            unlike.similarity >= m.similarity + DEFAULT_UNLIKE_MARGIN,
            "{m:?}"
        );
        assert_eq!(v.excluded_by.len(), 1, "{v:?}");
        assert!(
            v.excluded_by[0].starts_with("unlike \"setting up my home network and homelab\" (0."),
            "{:?}",
            v.excluded_by
        );
        assert!(!v.passes && !rules.passes(&home));

        // A story about the topic is still judged on its keywords and similarity.
        let replication = story("DNS for a replicated cluster", "", Some(REPLICATION));
        let v = rules.evaluate(&replication);
        assert!(!v.semantic.as_ref().unwrap().excluded, "{v:?}");
        assert!(v.excluded_by.is_empty() && v.passes && rules.passes(&replication));
    }

    #[test]
    fn the_fingerprint_text_follows_the_rule_not_the_vectors() {
        let a = distributed_systems().about.unwrap();
        let mut b = a.clone();
        b.phrases[0].vector = Some(embedder().embed("something else").quantize());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        b.threshold = 0.5;
        assert_ne!(format!("{a:?}"), format!("{b:?}"));
        let mut d = a.clone();
        d.phrases[0].unlike = true;
        assert_ne!(format!("{a:?}"), format!("{d:?}"), "a phrase turned unlike");
        let mut c = a.clone();
        c.phrases.iter_mut().for_each(|p| p.vector = None);
        assert_ne!(format!("{a:?}"), format!("{c:?}"), "falling back shows");
        assert!(!c.is_active());
    }
}
