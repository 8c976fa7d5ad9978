//! The embedding queue: filled by the writes that create a story or change its text, only
//! while some topic needs embeddings; drained by `set_embedding`, which keeps the vector with
//! its text's hash.

use crate::model::{Article, Sighting};
use crate::normalize::Candidate;
use crate::store::test_backends::{on_both_backends, TestStore};
use crate::store::{ArticleState, Queue, SourceState};
use chrono::{TimeZone, Utc};

fn candidate(title: &str, text: &str) -> Candidate {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    let sighting = Sighting {
        text: text.into(),
        ..Sighting::on_feed(
            &format!("https://example.com/{}", title.to_lowercase()),
            title,
            now,
        )
    };
    Candidate::from_sighting(sighting, 60, false).unwrap()
}

fn new_and_changed_texts_are_queued_and_set_embedding_drains_them(backend: &TestStore) {
    let store = backend.open();
    let state = SourceState::default();
    // Off: nothing queued.
    store.apply(&[candidate("Title", "")], "s", &state).unwrap();
    assert!(store.queued(Queue::Embeddings, 10).unwrap().is_empty());
    store.set_queueing(Queue::Embeddings, true);
    let c = candidate("Title", "");
    store.apply(std::slice::from_ref(&c), "s", &state).unwrap();
    assert!(
        store.queued(Queue::Embeddings, 10).unwrap().is_empty(),
        "an unchanged story is not queued"
    );
    assert_eq!(
        store.backfill_embeddings().unwrap(),
        1,
        "the story written while the queue was off"
    );
    assert_eq!(
        store.backfill_embeddings().unwrap(),
        0,
        "the queue has been on since: nothing to look for"
    );
    let story = store.story(c.id).unwrap().unwrap();
    let generation = store.generation();
    assert!(store
        .set_embedding(c.id, story.embedding_text_hash(), vec![1; 384])
        .unwrap());
    assert!(store.generation() > generation);
    assert!(store.queued(Queue::Embeddings, 10).unwrap().is_empty());
    let stored = store.story(c.id).unwrap().unwrap();
    assert_eq!(stored.current_embedding().unwrap().vector, vec![1; 384]);
    // Re-polled unchanged: still current, nothing queued, even by a backfill that looks
    // again (a write while the queue was off makes it look).
    store.apply(std::slice::from_ref(&c), "s", &state).unwrap();
    store.set_queueing(Queue::Embeddings, false);
    store.apply(&[candidate("Other", "")], "s", &state).unwrap();
    store.set_queueing(Queue::Embeddings, true);
    let other = candidate("Other", "").id;
    assert_eq!(store.backfill_embeddings().unwrap(), 1);
    assert_eq!(store.queued(Queue::Embeddings, 10).unwrap(), [other]);
    store.dequeue(Queue::Embeddings, &[other]).unwrap();
    assert!(store.queued(Queue::Embeddings, 10).unwrap().is_empty());
    // An article arriving changes the text: queued again, and an embedding of the old text
    // is refused.
    store
        .set_article(
            c.id,
            Some(Article {
                excerpt: "All about replication.".into(),
            }),
            "A summary.",
            &ArticleState::default(),
            Utc::now(),
        )
        .unwrap();
    assert_eq!(store.queued(Queue::Embeddings, 10).unwrap(), [c.id]);
    assert!(!store
        .set_embedding(c.id, story.embedding_text_hash(), vec![2; 384])
        .unwrap());
    assert_eq!(store.queued(Queue::Embeddings, 10).unwrap(), [c.id]);
    let changed = store.story(c.id).unwrap().unwrap();
    assert!(changed.current_embedding().is_none());
    // The record survives a reopen with its embedding.
    assert!(store
        .set_embedding(c.id, changed.embedding_text_hash(), vec![3; 384])
        .unwrap());
    drop(store);
    let store = backend.open();
    let reread = store.story(c.id).unwrap().unwrap();
    assert_eq!(reread.current_embedding().unwrap().vector, vec![3; 384]);
    assert!(store.queued(Queue::Embeddings, 10).unwrap().is_empty());
}

on_both_backends!(new_and_changed_texts_are_queued_and_set_embedding_drains_them,);

/// A store written by a build whose embeddings read title and summary only: its embeddings are
/// stale once the text also has the tags, and the backfill's flag from that build does not
/// stop the next start from queueing them (each is computed again once).
fn embeddings_of_the_text_before_tags_are_queued_again(backend: &TestStore) {
    use crate::store::kv::Tree;
    use crate::store::schema;
    let store = backend.open();
    store.set_queueing(Queue::Embeddings, true);
    let mut c = candidate("Tagged", "A post about a crate.");
    c.sighting.tags = vec!["rust".into()];
    store
        .apply(std::slice::from_ref(&c), "s", &SourceState::default())
        .unwrap();
    let mut story = store.story(c.id).unwrap().unwrap();
    let old_text = format!("{}\n{}", story.title, story.summary);
    assert_ne!(old_text, story.embedding_text(), "the tags are in the text");
    story.embedding = Some(crate::model::StoredEmbedding {
        text_hash: crate::model::text_hash(&old_text),
        vector: vec![1; 384],
    });
    let mut batch = crate::store::kv::Batch::default();
    batch.put(Tree::Stories, c.id.0, schema::encode_story(&story).unwrap());
    // The flag the older build set once its backfill had run.
    batch.put(Tree::Meta, "embeddings_queued", [1]);
    batch.delete(Tree::EmbedQueue, c.id.0);
    store.kv.commit(batch).unwrap();
    assert!(store.queued(Queue::Embeddings, 10).unwrap().is_empty());

    assert_eq!(store.backfill_embeddings().unwrap(), 1);
    assert_eq!(store.queued(Queue::Embeddings, 10).unwrap(), [c.id]);
}

on_both_backends!(embeddings_of_the_text_before_tags_are_queued_again,);
