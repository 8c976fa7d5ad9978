//! Making `[topic.about]` live: loading the embedding model, giving each topic's phrases and
//! examples their embeddings (`attach`), and computing the embeddings of queued stories
//! (`drain_embeddings`, run off the async threads by the daemon and by `fetch --once`).

use crate::config::Config;
use crate::model::StoryId;
use crate::semantic::{model_files, Embedder};
use crate::store::{Queue, Store, StoreError};

/// Stories embedded per `embed_batch` call.
pub const BATCH: usize = 32;

/// Loads the model from `config.model_dir()`; the error says where and why, in words fit
/// for `missing: ...`.
pub fn load_model(config: &Config) -> Result<Embedder, String> {
    let Some(dir) = config.model_dir() else {
        return Err(
            "no model directory (set [defaults] model_dir, FEEDSIFT_MODEL_DIR or HOME)".into(),
        );
    };
    // Presence only: `feedsift model status` hashes the weights.
    let absent: Vec<&str> = model_files::MODEL_FILES
        .iter()
        .copied()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if !absent.is_empty() {
        return Err(format!(
            "{} lacks {} (run `feedsift model fetch`)",
            dir.display(),
            absent.join(", ")
        ));
    }
    Embedder::load(&dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// What every command and the daemon say when the model cannot be loaded: why, and which
/// topics are judged on their keywords alone.
pub fn fallback_warning(config: &Config, problem: &str) -> String {
    format!(
        "embedding model missing: {problem}; topics {} fall back to keywords",
        config.topics_falling_back_if_missing().join(", ")
    )
}

/// The model for a config, when some topic needs it: `Ok(None)` when none does.
pub fn model_for(config: &Config) -> Result<Option<Embedder>, String> {
    if config.uses_about() {
        load_model(config).map(Some)
    } else {
        Ok(None)
    }
}

/// Gives every `[topic.about]` phrase its embedding, and every example URL its story's
/// embedding (looked up in `store` by canonical URL; examples not stored or not embedded yet
/// are skipped with a warning). Without a model (`embedder` is `None`), records
/// `model_problem`: those topics fall back to keywords. Returns the warnings.
pub fn attach(
    config: &mut Config,
    embedder: Option<&Embedder>,
    model_problem: Option<&str>,
    store: Option<&Store>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if !config.uses_about() {
        config.model_problem = None;
        return warnings;
    }
    config.model_problem = match embedder {
        Some(_) => None,
        None => Some(model_problem.unwrap_or("not loaded").to_string()),
    };
    for topic in &mut config.topics {
        let Some(about) = topic.rules.about.as_mut() else {
            continue;
        };
        let Some(embedder) = embedder else {
            about.phrases.iter_mut().for_each(|p| p.vector = None);
            continue;
        };
        let texts: Vec<&str> = about
            .phrases
            .iter()
            .filter(|p| !p.is_url)
            .map(|p| p.text.as_str())
            .collect();
        let mut vectors = embedder.embed_batch(&texts).into_iter();
        for phrase in &mut about.phrases {
            if !phrase.is_url {
                phrase.vector = vectors.next().map(|v| v.quantize());
                continue;
            }
            phrase.vector = example_vector(store, &phrase.text);
            if phrase.vector.is_none() {
                warnings.push(format!(
                    "topic {:?}: example {} skipped: no stored story with an embedding has this URL",
                    topic.slug, phrase.text
                ));
            }
        }
    }
    warnings
}

fn example_vector(store: Option<&Store>, url: &str) -> Option<crate::semantic::QuantizedEmbedding> {
    let canonical = crate::normalize::canonical_url(url).ok()?;
    let story = store?
        .story(StoryId::from_canonical_url(&canonical))
        .ok()??;
    crate::semantic::QuantizedEmbedding::from_bytes(&story.embedding?.vector)
}

/// Computes the embeddings of up to `max` queued stories, `BATCH` at a time, and stores
/// them. Blocking (the forward pass is CPU work): call it from `spawn_blocking` or a thread.
/// Returns how many embeddings were computed.
pub fn drain_embeddings(
    store: &Store,
    embedder: &Embedder,
    max: usize,
) -> Result<usize, StoreError> {
    let mut computed = 0;
    while computed < max {
        // On a shared database, stories another node is computing are left to it.
        let ids = store.claim_queued(Queue::Embeddings, BATCH.min(max - computed))?;
        if ids.is_empty() {
            break;
        }
        let mut todo = Vec::new();
        let mut done = Vec::new();
        for id in ids {
            match store.story(id)? {
                Some(story) if story.current_embedding().is_none() => {
                    let text = story.embedding_text();
                    todo.push((id, crate::model::text_hash(&text), text));
                }
                // Gone, or its embedding is already current (a restart re-queued it).
                _ => done.push(id),
            }
        }
        store.dequeue(Queue::Embeddings, &done)?;
        let texts: Vec<&str> = todo.iter().map(|(_, _, t)| t.as_str()).collect();
        let vectors = embedder.embed_batch(&texts);
        for ((id, hash, _), vector) in todo.iter().zip(vectors) {
            // False when its text changed meanwhile (it stays queued) or it is gone.
            store.set_embedding(*id, *hash, vector.quantize().to_bytes().to_vec())?;
        }
        computed += todo.len();
        store.flush()?;
    }
    Ok(computed)
}
