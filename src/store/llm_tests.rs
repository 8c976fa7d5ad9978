//! The LLM queue and records: stories queued when new, when their points move or their text
//! changes (while some topic uses the model); `set_llm_summary` stores the model's summary
//! without touching what rules read, and drains the queue; pruning forgets it all.

use crate::llm::state::LlmAttempt;
use crate::llm::LlmState;
use crate::model::{LlmSummary, Sighting};
use crate::normalize::Candidate;
use crate::store::test_backends::{on_both_backends, TestStore};
use crate::store::{Queue, SourceState};
use chrono::{DateTime, TimeZone, Utc};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()
}

fn candidate(points: i64) -> Candidate {
    let sighting = Sighting {
        text: "Raft in practice.".into(),
        points: Some(points),
        ..Sighting::on_feed("https://example.com/raft", "Raft", at())
    };
    Candidate::from_sighting(sighting, 60, false).unwrap()
}

fn stories_are_queued_for_the_model_and_its_summary_drains_them(backend: &TestStore) {
    let store = backend.open();
    let state = SourceState::default();
    store.apply(&[candidate(10)], "s", &state).unwrap();
    assert!(store.queued(Queue::LlmSummaries, 10).unwrap().is_empty());
    assert_eq!(store.backfill_llm_summaries(at()).unwrap(), 1);
    let id = candidate(10).id;
    store.dequeue(Queue::LlmSummaries, &[id]).unwrap();
    // Points moving queue it again (min_points_for_llm may pass now); the same poll does not.
    store.apply(&[candidate(10)], "s", &state).unwrap();
    assert!(!store.is_queued(Queue::LlmSummaries, id).unwrap());
    store.apply(&[candidate(50)], "s", &state).unwrap();
    assert!(store.is_queued(Queue::LlmSummaries, id).unwrap());

    let attempt = LlmAttempt {
        input_hash: 7,
        refusals: 1,
        ..LlmAttempt::default()
    };
    store.put_llm_attempt(id, &attempt).unwrap();
    assert_eq!(store.llm_attempt(id).unwrap(), Some(attempt));
    let before = store.story(id).unwrap().unwrap();
    let generation = store.generation();
    let summary = LlmSummary {
        text: "Raft keeps logs in step. It is used widely.".into(),
        model: "m".into(),
        input_hash: 7,
        made_at: at(),
    };
    // A poll that changed the text while the model was asked keeps the story queued.
    assert!(store
        .set_llm_summary(id, summary.clone(), before.embedding_text_hash() ^ 1)
        .unwrap());
    assert!(store.is_queued(Queue::LlmSummaries, id).unwrap());
    assert!(store
        .set_llm_summary(id, summary.clone(), before.embedding_text_hash())
        .unwrap());
    assert!(store.generation() > generation, "feeds re-render");
    assert!(!store.is_queued(Queue::LlmSummaries, id).unwrap());
    assert_eq!(store.llm_attempt(id).unwrap(), None);
    let after = store.story(id).unwrap().unwrap();
    assert_eq!(after.llm_summary.as_ref(), Some(&summary));
    assert_eq!(
        (&after.summary, after.revised),
        (&before.summary, before.revised),
        "the extractive summary stays for the other topics"
    );
    drop(store);
    let store = backend.open();
    assert_eq!(store.story(id).unwrap().unwrap().llm_summary, Some(summary));
    assert_eq!(
        store
            .prune_before(at() + chrono::Duration::days(1), 10)
            .unwrap(),
        1
    );
    assert!(store.story(id).unwrap().is_none());
}

fn the_model_state_is_kept_across_opens(backend: &TestStore) {
    let store = backend.open();
    assert_eq!(store.llm_state().unwrap(), LlmState::default());
    let mut state = LlmState::default();
    state.take(at(), 2).unwrap();
    store.put_llm_state(&state).unwrap();
    drop(store);
    let store = backend.open();
    assert_eq!(store.llm_state().unwrap(), state);
    assert_eq!(store.llm_state().unwrap().budget_left(at(), 2), 1);
}

on_both_backends!(
    stories_are_queued_for_the_model_and_its_summary_drains_them,
    the_model_state_is_kept_across_opens,
);
