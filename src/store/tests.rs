//! Store behaviour across writes: retention.

use crate::model::{Sighting, StoryId};
use crate::normalize::Candidate;
use crate::store::SourceState;
use crate::store::Store;
use chrono::{Duration, TimeZone, Utc};

#[test]
fn pruning_removes_only_stories_older_than_the_cutoff_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    let candidates: Vec<Candidate> = (0..10)
        .map(|day| {
            let sighting = Sighting {
                source: "s".into(),
                site: "feed:s".into(),
                site_name: "S".into(),
                item_id: None,
                url: format!("https://example.com/{day}"),
                title: format!("Day {day}"),
                text: String::new(),
                html: None,
                author: None,
                tags: vec![],
                points: None,
                comments: None,
                discussion_url: None,
                published: Some(now - Duration::days(day)),
                fetched_at: now,
                is_self_post: false,
            };
            Candidate::from_sighting(sighting, 60, false).unwrap()
        })
        .collect();
    store
        .apply(&candidates, "s", &SourceState::default())
        .unwrap();
    let generation = store.generation();
    let cutoff = now - Duration::days(6) - Duration::hours(1);
    // Days 7, 8 and 9 are older than the cutoff: removed two at a time.
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 2);
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 1);
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 0);
    assert!(store.generation() > generation, "readers see the change");
    assert_eq!(store.story_count(), 7);
    let left: Vec<String> = store
        .stories_since(now - Duration::days(365))
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(
        left,
        ["Day 0", "Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Day 6"]
    );
    assert!(store
        .story(StoryId::from_canonical_url("https://example.com/8"))
        .unwrap()
        .is_none());
}
