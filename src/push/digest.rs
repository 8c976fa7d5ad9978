//! What a reader of a topic's feed can see, reduced to one hash: the items in order with the
//! fields every format renders, but not points or comment counts (the ranking they move is
//! in the order already), so a points-only change is no change.

use crate::model::Story;
use sha2::{Digest as _, Sha256};

/// The hash of a topic's visible item list.
pub(crate) type Digest = [u8; 32];

/// Hashes `stories` as listed (the feed's order); `full_content` topics show the source's
/// body, the others the summary.
pub(crate) fn visible_digest(stories: &[Story], full_content: bool) -> Digest {
    let mut hash = Sha256::new();
    // Each field is length-prefixed, so moving text from one field to the next changes it.
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    for story in stories {
        field(story.id.to_hex().as_bytes());
        field(story.url.as_bytes());
        field(story.title.as_bytes());
        field(story.summary.as_bytes());
        let body = if full_content {
            story.content_html.as_deref().unwrap_or_default()
        } else {
            ""
        };
        field(body.as_bytes());
        field(story.author.as_deref().unwrap_or_default().as_bytes());
        field(story.tags.join("\n").as_bytes());
        field(&story.published.timestamp().to_be_bytes());
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoredSighting;
    use chrono::{TimeZone, Utc};

    fn story(title: &str, points: i64) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        Story {
            summary: format!("About {title}."),
            sightings: vec![StoredSighting {
                points: Some(points),
                ..crate::render::fixtures::stories()[0].sightings[0].clone()
            }],
            ..Story::bare(title, at)
        }
    }

    #[test]
    fn what_a_reader_sees_changes_the_digest_and_points_do_not() {
        let (a, b) = (story("Raft", 10), story("Paxos", 5));
        let base = visible_digest(&[a.clone(), b.clone()], false);
        // Points moved, order kept: nothing a reader of the list would call new.
        let more_points = [story("Raft", 500), story("Paxos", 7)];
        assert_eq!(visible_digest(&more_points, false), base);
        // Order changed, an item gone, an item new, a summary replaced: each is a change.
        assert_ne!(visible_digest(&[b.clone(), a.clone()], false), base);
        assert_ne!(visible_digest(std::slice::from_ref(&a), false), base);
        let c = story("Zab", 1);
        assert_ne!(visible_digest(&[a.clone(), b.clone(), c], false), base);
        let resummarized = Story {
            summary: "Another summary.".into(),
            ..a.clone()
        };
        assert_ne!(visible_digest(&[resummarized, b.clone()], false), base);
        // The source's body counts only where it is shown.
        let with_body = Story {
            content_html: Some("<p>body</p>".into()),
            ..a.clone()
        };
        assert_eq!(visible_digest(&[with_body.clone(), b.clone()], false), base);
        assert_ne!(
            visible_digest(&[with_body, b.clone()], true),
            visible_digest(&[a, b], true)
        );
        assert_ne!(visible_digest(&[], false), base);
    }
}
