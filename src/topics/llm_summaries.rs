//! Which summary a story shows in a topic with `summaries = "llm"` and why: the one owner of
//! "does this topic want the model's summary of this story", read by the worker (what is due)
//! and by `explain` (what a story has, or what it waits for).

use crate::config::Config;
use crate::llm::prompt;
use crate::model::{Story, StoryId};
use crate::select::{SummaryMode, Topic};
use crate::store::{Queue, Store, StoreError};
use chrono::{DateTime, Utc};

/// Ok when `topic` wants the model's summary of `story` at `now`, else why not.
pub(crate) fn wants(topic: &Topic, story: &Story, now: DateTime<Utc>) -> Result<(), String> {
    shows_llm(topic, story)?;
    if !topic.shows(story, topic.window_start(now)) {
        return Err("not in the topic's feed".into());
    }
    Ok(())
}

/// Ok when `topic` shows the model's summary of `story` once there is one: it opted in and
/// the story has `min_points_for_llm`. Else why not.
fn shows_llm(topic: &Topic, story: &Story) -> Result<(), String> {
    let SummaryMode::Llm { min_points } = topic.summaries else {
        return Err(format!("summaries = {:?}", topic.summaries.name()));
    };
    match min_points {
        Some(min) if story.top_points() < min => Err(format!(
            "below min_points_for_llm ({} < {min})",
            story.top_points()
        )),
        _ => Ok(()),
    }
}

/// The story as `topic` shows it: with the model's summary in place of the extractive one
/// where the topic opted in and the story qualifies (`Story::with_llm_summary`).
pub(crate) fn as_shown(topic: &Topic, story: Story) -> Story {
    if shows_llm(topic, &story).is_ok() {
        story.with_llm_summary()
    } else {
        story
    }
}

/// What the story's input still waits for (its article, or the embedding that may bring it
/// into `topic`), if anything: asking the model before would spend the budget twice.
pub(crate) fn pending(
    store: &Store,
    topic: &Topic,
    id: StoryId,
) -> Result<Option<&'static str>, StoreError> {
    if store.is_queued(Queue::Articles, id)? {
        return Ok(Some("waiting for its article"));
    }
    let semantic = topic.rules.about.as_ref().is_some_and(|a| a.is_active());
    if semantic && store.is_queued(Queue::Embeddings, id)? {
        return Ok(Some("waiting for its embedding"));
    }
    Ok(None)
}

/// One line for `explain`: `llm (model ...)` or `extractive: why`.
pub(crate) fn describe(
    config: &Config,
    store: &Store,
    topic: &Topic,
    story: &Story,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    if !topic.summaries.uses_llm() {
        return Ok(format!(
            "extractive (summaries = {:?})",
            topic.summaries.name()
        ));
    }
    if let Err(why) = shows_llm(topic, story) {
        return Ok(format!("extractive: {why}"));
    }
    if let Some(made) = &story.llm_summary {
        return Ok(format!(
            "llm (model {}, made {})",
            made.model,
            made.made_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let Some(llm) = &config.llm else {
        return Ok("extractive: no [llm] section".into());
    };
    if let Err(why) = wants(topic, story, now) {
        return Ok(format!("extractive: {why}"));
    }
    if let Some(waiting) = pending(store, topic, story.id)? {
        return Ok(format!("extractive: {waiting}"));
    }
    let Some(request) = prompt::request(llm, story, config.defaults.summary_words) else {
        return Ok("extractive: no text to summarize".into());
    };
    if let Some(a) = store
        .llm_attempt(story.id)?
        .filter(|a| a.input_hash == request.input_hash)
    {
        let last = a.last_refusal.as_deref().unwrap_or("refused");
        if a.gave_up() {
            return Ok(format!(
                "extractive: {} answers refused (last: {last}); not asked again",
                a.refusals
            ));
        }
        if let Some(next) = a.next_try.filter(|t| *t > now) {
            return Ok(format!(
                "extractive: the answer was refused ({last}); asking again at {}",
                next.format("%H:%M UTC")
            ));
        }
    }
    if let Err(problem) = llm.api_key() {
        return Ok(format!("extractive: waiting ({problem})"));
    }
    Ok(match store.llm_state()?.wait(now, llm.max_per_hour) {
        Some(wait) => format!("extractive: waiting ({wait})"),
        None => "extractive: waiting for the model (queued)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LlmSummary, StoredSighting};
    use chrono::Duration;

    fn topics() -> Config {
        let text = "[llm]\nendpoint = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\n\n[[topic]]\nslug = \"llm\"\ntitle = \"L\"\nsummaries = \"llm\"\nmin_points_for_llm = 100\n\n[[topic]]\nslug = \"plain\"\ntitle = \"P\"\n";
        Config::parse(std::path::Path::new("feeds.toml"), text).unwrap()
    }

    fn story(points: i64, now: DateTime<Utc>) -> Story {
        let published = now - Duration::hours(2);
        Story {
            summary: "The extractive one.".into(),
            sources: vec!["s".into()],
            sightings: vec![StoredSighting::scored(
                "hackernews",
                Some(points),
                None,
                published,
            )],
            llm_summary: Some(LlmSummary {
                text: "The model's one. In two sentences.".into(),
                model: "m".into(),
                input_hash: 1,
                made_at: now,
            }),
            ..Story::bare("Raft", published)
        }
    }

    #[test]
    fn only_topics_that_opted_in_show_the_model_summary_and_above_their_points() {
        let config = topics();
        let now = Utc::now();
        let (llm, plain) = (&config.topics[0], &config.topics[1]);
        let shown = as_shown(llm, story(150, now));
        assert_eq!(shown.summary, "The model's one. In two sentences.");
        assert_eq!(shown.entry_updated(), now, "the entry counts as revised");
        assert_eq!(
            as_shown(plain, story(150, now)).summary,
            "The extractive one."
        );
        assert_eq!(as_shown(llm, story(40, now)).summary, "The extractive one.");
        assert_eq!(wants(llm, &story(150, now), now), Ok(()));
        assert_eq!(
            wants(llm, &story(40, now), now),
            Err("below min_points_for_llm (40 < 100)".into())
        );
        assert_eq!(
            wants(plain, &story(150, now), now),
            Err("summaries = \"article\"".into())
        );
    }
}
