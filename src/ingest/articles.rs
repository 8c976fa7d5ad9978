//! Article pages of link posts, before the verdict: every story from an article-reading
//! topic's sources that passes its cheap gates (window, points and comments thresholds;
//! queued again when its points move) gets its page fetched once (same fetcher rules,
//! per-host limits), its main text extracted: an excerpt the rules read, and a summary for
//! stories without text. Failures are retried with backoff while the item is served.
//! An article link is source content: it may reach only public addresses (see
//! `fetch::guard`); a refusal is recorded with its reason and is final.

use super::hosts::HostLimits;
use crate::config::Config;
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::model::{Article, Story, StoryId};
use crate::normalize::article_text::extract;
use crate::normalize::bounds::cut_long_words;
use crate::normalize::extractive::summarize_article;
use crate::normalize::{summarize, tokenize};
use crate::select::Topic;
use crate::store::{ArticleState, Queue, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Attempts before an unreachable article is given up on.
const MAX_ATTEMPTS: u32 = 6;
/// Articles fetched at once (each host still limited by `HostLimits`).
const CONCURRENCY: usize = 4;
/// Stories one round looks at (retries, then the queue).
const MAX_DUE: usize = 500;
/// Words of a page's main text a story keeps for the rules to read.
const EXCERPT_WORDS: usize = 300;

/// A story whose article is due, the keywords of the topics that want it, its state.
type Due = (Story, HashSet<String>, ArticleState);

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
    pub(crate) async fn run_once(&self, config: Arc<Config>, max: usize) -> ArticleReport {
        let now = Utc::now();
        let worker = self.clone();
        let listed = tokio::task::spawn_blocking(move || worker.due(&config, now)).await;
        let due = match listed {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list articles to summarize");
                return ArticleReport::default();
            }
            Err(e) => {
                tracing::warn!(error = %e, "article listing task failed");
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

    /// Queued stories whose article is due (new, points moved, or failed and their retry
    /// time came) and that pass the cheap gates of some article-reading topic; with the
    /// keywords of those topics (the summary favours sentences with them). Stories done, gone
    /// or not wanted leave the queue (a points change queues them again); failed ones stay
    /// queued until their next try. At most `MAX_DUE`. Blocking: reads the store.
    fn due(&self, config: &Config, now: DateTime<Utc>) -> Result<Vec<Due>, StoreError> {
        // Each reader with the words of its keywords, tokenized once per round.
        let readers: Vec<(&Topic, HashSet<String>)> = config
            .topics
            .iter()
            .filter(|t| t.summaries.reads_articles())
            .map(|t| {
                let words = t.rules.keywords.iter().flat_map(|k| tokenize(&k.text));
                (t, words.collect())
            })
            .collect();
        if readers.is_empty() {
            return Ok(Vec::new());
        }
        let mut due = Vec::new();
        let mut finished = Vec::new();
        for id in self.store.queued(Queue::Articles, usize::MAX)? {
            if due.len() >= MAX_DUE {
                break;
            }
            let state = self.store.article_state(id)?.unwrap_or_default();
            if state.done {
                finished.push(id);
                continue;
            }
            if state.next_try.is_some_and(|t| t > now) {
                continue;
            }
            match self
                .store
                .story(id)?
                .and_then(|s| wanted_by(&readers, &s, now).map(|k| (s, k)))
            {
                Some((story, keywords)) => due.push((story, keywords, state)),
                None => finished.push(id),
            }
        }
        self.store.dequeue(Queue::Articles, &finished)?;
        // Articles another node is fetching (it holds their leases) are left to it.
        let ids = due.iter().map(|(story, _, _)| story.id).collect();
        let leased: HashSet<StoryId> = self
            .store
            .lease_work(Queue::Articles, ids)?
            .into_iter()
            .collect();
        due.retain(|(story, _, _)| leased.contains(&story.id));
        Ok(due)
    }

    /// Fetches one article and records what it gave. True when it gave text.
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
            self.read_article(&story, keywords).await
        };
        let (article, summary) = match result {
            Ok(read) => {
                state.done = true;
                state.last_error = None;
                read
            }
            Err(Failure { message, last }) => {
                state.done = last || state.attempts >= MAX_ATTEMPTS;
                state.next_try = (!last).then(|| now + backoff(state.attempts));
                tracing::info!(story = %story.url, attempt = state.attempts, error = %message, "article fetch failed");
                state.last_error = Some(message);
                (None, String::new())
            }
        };
        let st = self.store.clone();
        let id = story.id;
        let gave_text = article.is_some() || !summary.is_empty();
        let stored = tokio::task::spawn_blocking(move || {
            let stored = if gave_text {
                st.set_article(id, article, &summary, &state, now)
                    .map(|_| ())
            } else {
                st.put_article_state(id, &state)
            };
            // A failure to be retried stays queued until its next try.
            if state.done {
                stored.and_then(|()| st.dequeue(Queue::Articles, &[id]))
            } else {
                stored
            }
        })
        .await;
        matches!(stored, Ok(Ok(()))) && gave_text
    }

    /// What the page at the story's URL says: an excerpt of its main text (or of its own
    /// description) and a summary (from the main text, else the description, else the
    /// title). Errors only when the page could not be fetched.
    async fn read_article(
        &self,
        story: &Story,
        keywords: HashSet<String>,
    ) -> Result<(Option<Article>, String), Failure> {
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
        let (title, words) = (story.title.clone(), self.summary_words);
        if !is_html {
            return Ok((None, summarize(&title, words)));
        }
        // Parsing a page is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || {
            let html = String::from_utf8_lossy(&body.bytes);
            let page = extract(&html);
            let description = page.description.filter(|d| !d.is_empty());
            let from_body = cut_long_words(&summarize_article(&page.paragraphs, &keywords, words));
            let main_text = page.paragraphs.join("\n\n");
            let excerpt = excerpt_of(if main_text.trim().is_empty() {
                description.as_deref().unwrap_or_default()
            } else {
                &main_text
            });
            let summary = if !from_body.is_empty() {
                from_body
            } else if let Some(description) = &description {
                summarize(description, words)
            } else {
                summarize(&title, words)
            };
            let article = (!excerpt.is_empty()).then_some(Article { excerpt });
            (article, summary)
        })
        .await
        .map_err(|e| Failure {
            message: format!("article task failed: {e}"),
            last: false,
        })
    }
}

/// The first `EXCERPT_WORDS` words of a page's text, each word bounded.
fn excerpt_of(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(EXCERPT_WORDS).collect();
    cut_long_words(&words.join(" "))
}

/// Whether some article-reading topic wants this story's article now: a link post (not a
/// self post, whose link is its own discussion) from the topic's sources, in its window,
/// passing its cheap gates. The keywords of every such topic.
fn wanted_by(
    readers: &[(&Topic, HashSet<String>)],
    story: &Story,
    now: DateTime<Utc>,
) -> Option<HashSet<String>> {
    let self_post = story
        .sightings
        .iter()
        .any(|s| s.discussion_url.as_deref() == Some(story.url.as_str()));
    if self_post {
        return None;
    }
    let mut keywords: Option<HashSet<String>> = None;
    for (topic, words) in readers {
        if topic.draws_from(story)
            && story.published >= topic.window_start(now)
            && topic.rules.passes_gates(story)
        {
            keywords
                .get_or_insert_with(HashSet::new)
                .extend(words.iter().cloned());
        }
    }
    keywords
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
