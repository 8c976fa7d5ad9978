//! A topic's items at a moment, read from the store: through the topic's index when it is
//! complete (loading about `limit` stories), else by selecting over the whole window. Both
//! give the same stories in the same order once the index has filed the latest writes.

use super::index::{KeyOrder, TopicIndex};
use crate::model::{RankKey, Story, StoryId};
use crate::select::{self, rank, Sort, Topic};
use crate::store::{Store, StoreError, StoryIndex};
use chrono::{DateTime, Utc};

/// The items of `shown` at `now`: `topic` as configured, or narrowed from it (narrowing only
/// ever removes stories, so the configured topic's index holds every candidate).
pub(crate) fn items(
    store: &Store,
    topic: &Topic,
    shown: &Topic,
    now: DateTime<Utc>,
) -> Result<Vec<Story>, StoreError> {
    let index = TopicIndex::new(topic);
    // The index as it is: the daemon files changed stories within a second (and bumps the
    // store generation), so a render never waits on that work.
    if store.index_ready(index.prefix(), index.fingerprint()) {
        return from_index(store, &index, shown, now);
    }
    let window = store.stories_since(shown.window_start(now))?;
    Ok(select::select(shown, window, now))
}

/// The items of `shown` as its readers see them: `items`, with the model's summary in place
/// of the extractive one where the topic uses the model and the story has one. What every
/// output of the topic (its feeds, WebSub digests, webhook bodies) is made from.
pub(crate) fn shown_items(
    store: &Store,
    topic: &Topic,
    shown: &Topic,
    now: DateTime<Utc>,
) -> Result<Vec<Story>, StoreError> {
    let stories = items(store, topic, shown, now)?;
    Ok(if shown.summaries.uses_llm() {
        stories
            .into_iter()
            .map(|s| super::llm_summaries::as_shown(shown, s))
            .collect()
    } else {
        stories
    })
}

fn from_index(
    store: &Store,
    index: &TopicIndex,
    shown: &Topic,
    now: DateTime<Utc>,
) -> Result<Vec<Story>, StoreError> {
    let start = shown.window_start(now);
    let in_window = store
        .index_keys(index.prefix())
        .map(|key| key.map(|k| index.decode(&k)))
        .filter_map(Result::transpose)
        // Newest-first keys end the window at the first older story.
        .take_while(|rank| {
            index.order() == KeyOrder::Points || rank.as_ref().is_ok_and(|r| r.published >= start)
        })
        .filter(|rank| rank.as_ref().map_or(true, |r| r.published >= start));
    let key_order_is_rank_order = matches!(
        (index.order(), shown.sort),
        (KeyOrder::Points, Sort::Points) | (KeyOrder::Time, Sort::Recent)
    );
    // In key order the best come first and reading stops at `limit`; another ranking (hot,
    // or a `?sort=`) orders the window's keys first.
    let ranked: Box<dyn Iterator<Item = Result<RankKey, StoreError>>> = if key_order_is_rank_order {
        Box::new(in_window)
    } else {
        let mut ranks: Vec<RankKey> = in_window.collect::<Result<_, _>>()?;
        rank::rank_keys(&mut ranks, shown.sort, now);
        Box::new(ranks.into_iter().map(Ok))
    };
    // Stories read as many at a time as the feed still wants (one round trip on a database),
    // then kept when the shown (possibly narrowed) topic keeps them.
    let mut ranked = ranked.peekable();
    let mut items = Vec::new();
    while items.len() < shown.limit && ranked.peek().is_some() {
        let want = shown.limit - items.len();
        let ids: Vec<StoryId> = ranked
            .by_ref()
            .take(want)
            .map(|rank| rank.map(|r| r.id))
            .collect::<Result<_, _>>()?;
        let stories = store.stories(&ids)?.into_iter().flatten();
        items.extend(stories.filter(|s| shown.shows(s, start)));
    }
    Ok(items)
}

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
