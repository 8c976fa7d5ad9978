//! Article summaries for link posts: stories in `summaries = "article"` topics that carry no
//! text get their article page fetched once (same fetcher rules, per-host limits), its main
//! text extracted and summarized; failures are retried with backoff while the item is served.
//! An article link is source content: it may reach only public addresses (see
//! `fetch::guard`); a refusal is recorded with its reason and is final.

use super::hosts::HostLimits;
use crate::config::Config;
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::model::{Story, StoryId};
use crate::normalize::article_text::extract;
use crate::normalize::extractive::summarize_article;
use crate::normalize::{summarize, tokenize};
use crate::select::SummaryMode;
use crate::store::{ArticleState, Store};
use crate::topics::items;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::task::JoinSet;

/// Attempts before an unreachable article is given up on.
const MAX_ATTEMPTS: u32 = 6;
/// Articles fetched at once (each host still limited by `HostLimits`).
const CONCURRENCY: usize = 4;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArticleReport {
    pub summarized: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub(crate) struct ArticleWorker {
    store: Store,
    fetcher: Fetcher,
    summary_words: usize,
    hosts: HostLimits,
}

impl ArticleWorker {
    pub(crate) fn new(
        config: &Config,
        store: Store,
        hosts: HostLimits,
    ) -> Result<ArticleWorker, FetchError> {
        if config.defaults.allow_private_networks {
            tracing::warn!(
                "allow_private_networks is on: links and redirects from sources may reach \
                 loopback, private and link-local addresses (meant for local setups and tests)"
            );
        }
        Ok(ArticleWorker {
            store,
            fetcher: super::fetcher(config)?,
            summary_words: config.defaults.summary_words,
            hosts,
        })
    }

    /// Summarizes every article that is due now (at most `max`).
    pub(crate) async fn run_once(&self, config: &Config, max: usize) -> ArticleReport {
        let now = Utc::now();
        let due = match self.due(config, now) {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list articles to summarize");
                return ArticleReport::default();
            }
        };
        let mut report = ArticleReport::default();
        let mut tasks = JoinSet::new();
        for (story, keywords, state) in due.into_iter().take(max) {
            while tasks.len() >= CONCURRENCY {
                if let Some(Ok(ok)) = tasks.join_next().await {
                    count(&mut report, ok);
                }
            }
            let worker = self.clone();
            tasks.spawn(async move { worker.summarize_one(story, keywords, state).await });
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok(ok) = done {
                count(&mut report, ok);
            }
        }
        report
    }

    /// Stories shown by some article-summary topic, without text, not self posts, whose
    /// article is not done and is due; with the keywords of those topics.
    fn due(
        &self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Story, HashSet<String>, ArticleState)>, crate::store::StoreError> {
        let topics: Vec<_> = config
            .topics
            .iter()
            .filter(|t| t.summaries == SummaryMode::Article)
            .collect();
        let mut wanted: BTreeMap<StoryId, (Story, HashSet<String>)> = BTreeMap::new();
        for topic in topics {
            let words: HashSet<String> = topic
                .rules
                .keywords
                .iter()
                .flat_map(|k| tokenize(&k.text))
                .collect();
            for story in items::items(&self.store, topic, topic, now)?
                .into_iter()
                .filter(needs_article)
            {
                wanted
                    .entry(story.id)
                    .or_insert_with(|| (story, HashSet::new()))
                    .1
                    .extend(words.iter().cloned());
            }
        }
        let mut due = Vec::new();
        for (id, (story, keywords)) in wanted {
            let state = self.store.article_state(id)?.unwrap_or_default();
            if !state.done && state.next_try.is_none_or(|t| t <= now) {
                due.push((story, keywords, state));
            }
        }
        Ok(due)
    }

    /// Fetches and summarizes one article; records the outcome. True when a summary came out.
    async fn summarize_one(
        &self,
        story: Story,
        keywords: HashSet<String>,
        mut state: ArticleState,
    ) -> bool {
        let now = Utc::now();
        state.attempts += 1;
        state.last_attempt = Some(now);
        let host = url::Url::parse(&story.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let result = {
            let _slot = self.hosts.acquire(&host).await;
            self.article_summary(&story, &keywords).await
        };
        let summary = match result {
            Ok(summary) => {
                state.done = true;
                state.last_error = None;
                summary
            }
            Err(Failure { message, last }) => {
                state.done = last || state.attempts >= MAX_ATTEMPTS;
                state.next_try = (!last).then(|| now + backoff(state.attempts));
                tracing::info!(story = %story.url, attempt = state.attempts, error = %message, "article fetch failed");
                state.last_error = Some(message);
                String::new()
            }
        };
        let st = self.store.clone();
        let id = story.id;
        let stored = tokio::task::spawn_blocking(move || {
            if summary.is_empty() {
                st.put_article_state(id, &state).map(|_| false)
            } else {
                st.set_summary(id, &summary, &state, now)
            }
        })
        .await;
        matches!(stored, Ok(Ok(true)))
    }

    /// The summary of the page at the story's URL: its main text, else its own description,
    /// else the title. Errors only when the page could not be fetched.
    async fn article_summary(
        &self,
        story: &Story,
        keywords: &HashSet<String>,
    ) -> Result<String, Failure> {
        let url = url::Url::parse(&story.url).map_err(|e| Failure {
            message: e.to_string(),
            last: false,
        })?;
        let body = match self.fetcher.get_content(&url).await.map_err(|e| Failure {
            last: matches!(e, FetchError::Refused(_)),
            message: e.to_string(),
        })? {
            Fetched::Body(body) => body,
            Fetched::NotModified { .. } => {
                return Err(Failure {
                    message: "unexpected 304 without validators".into(),
                    last: false,
                })
            }
        };
        let is_html = body
            .content_type
            .as_deref()
            .is_none_or(|t| t.contains("html"));
        if !is_html {
            return Ok(summarize(&story.title, self.summary_words));
        }
        let html = String::from_utf8_lossy(&body.bytes);
        let article = extract(&html);
        let from_body = summarize_article(&article.paragraphs, keywords, self.summary_words);
        Ok(if !from_body.is_empty() {
            from_body
        } else if let Some(description) = article.description.filter(|d| !d.is_empty()) {
            summarize(&description, self.summary_words)
        } else {
            summarize(&story.title, self.summary_words)
        })
    }
}

/// Why an article gave no summary, and whether trying again could help.
struct Failure {
    message: String,
    /// Final: the address guard refused it, so trying again cannot help.
    last: bool,
}

fn count(report: &mut ArticleReport, summarized: bool) {
    if summarized {
        report.summarized += 1;
    } else {
        report.failed += 1;
    }
}

/// A link post whose article could give a summary: no text yet, and not a self post (whose
/// link is its own discussion).
fn needs_article(story: &Story) -> bool {
    story.summary.is_empty()
        && !story
            .sightings
            .iter()
            .any(|s| s.discussion_url.as_deref() == Some(story.url.as_str()))
}

/// 2 min, 4 min, 8 min, ... capped at a day.
fn backoff(attempts: u32) -> chrono::Duration {
    let minutes = 2u64.saturating_pow(attempts.min(20)).min(24 * 60);
    chrono::Duration::from_std(Duration::from_secs(minutes * 60))
        .unwrap_or(chrono::Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), chrono::Duration::minutes(2));
        assert_eq!(backoff(3), chrono::Duration::minutes(8));
        assert_eq!(backoff(30), chrono::Duration::days(1));
    }
}
