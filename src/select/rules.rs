//! A topic's compiled rules and the verdict they give on one story: keyword relevance,
//! exclusions, and per-site points and comments thresholds.

use super::matcher::{Document, Field, Term};
use crate::model::Story;
use std::collections::BTreeMap;

/// Points threshold: one for every scored site, or one per site kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum MinPoints {
    #[default]
    None,
    All(i64),
    PerSite(BTreeMap<String, i64>),
}

impl MinPoints {
    fn threshold_for(&self, kind: &str) -> Option<i64> {
        match self {
            MinPoints::None => None,
            MinPoints::All(n) => Some(*n),
            MinPoints::PerSite(map) => map.get(kind).copied(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TopicRules {
    pub keywords: Vec<Term>,
    pub exclude: Vec<Term>,
    pub min_relevance: f64,
    pub min_points: MinPoints,
    pub min_comments: Option<i64>,
}

/// A keyword that matched, where, and what it is worth.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchedTerm {
    pub term: String,
    pub weight: f64,
    pub field: Field,
}

/// Why a story is in a topic or not.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub matched: Vec<MatchedTerm>,
    pub relevance: f64,
    pub relevant: bool,
    pub excluded_by: Vec<String>,
    /// Per sighting site: whether its points and comments pass the thresholds.
    pub popular: bool,
    pub passes: bool,
}

impl TopicRules {
    pub fn evaluate(&self, story: &Story) -> Verdict {
        let doc = Document::new(&story.title, &story.summary, &story.tags);
        let matched: Vec<MatchedTerm> = self
            .keywords
            .iter()
            .filter_map(|t| {
                doc.find(t).map(|field| MatchedTerm {
                    term: t.text.clone(),
                    weight: t.weight,
                    field,
                })
            })
            .collect();
        let relevance: f64 = matched.iter().map(|m| m.weight).sum();
        let relevant = relevance >= self.min_relevance;
        let excluded_by: Vec<String> = self
            .exclude
            .iter()
            .filter(|t| doc.find(t).is_some())
            .map(|t| t.text.clone())
            .collect();
        let popular = self.is_popular(story);
        Verdict {
            passes: relevant && excluded_by.is_empty() && popular,
            matched,
            relevance,
            relevant,
            excluded_by,
            popular,
        }
    }

    /// A story passes when ANY of its sightings passes both thresholds. Sightings without a
    /// score (plain feeds) are not held to a points threshold, nor to a comments one when
    /// they carry no comment count.
    fn is_popular(&self, story: &Story) -> bool {
        if self.min_points == MinPoints::None && self.min_comments.is_none() {
            return true;
        }
        story.sightings.iter().any(|s| {
            let points_ok = match (self.min_points.threshold_for(s.kind()), s.points) {
                (Some(min), Some(points)) => points >= min,
                _ => true,
            };
            let comments_ok = match (self.min_comments, s.comments) {
                (Some(min), Some(comments)) => comments >= min,
                _ => true,
            };
            points_ok && comments_ok
        })
    }
}
