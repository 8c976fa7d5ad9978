//! Summaries from the language model, off every fetch and request path: queued stories that
//! a `summaries = "llm"` topic wants (best points first) are sent to the model within the
//! hourly budget, `concurrency` at a time; a usable answer is stored with its cache key, a
//! refused one is retried later, a failed call backs every call off.

use crate::config::{Config, LlmConfig};
use crate::llm::answer;
use crate::llm::prompt::{self, Request};
use crate::llm::state::LlmAttempt;
use crate::llm::{LlmClient, LlmState};
use crate::metrics::Metrics;
use crate::model::{LlmSummary, Story};
use crate::store::{Queue, Store, StoreError};
use crate::topics::llm_summaries::{pending, wants};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// Queued stories one round looks at.
const MAX_SCAN: usize = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LlmReport {
    pub made: usize,
    pub refused: usize,
    pub failed: usize,
    /// More were due than this round could ask for.
    pub more_due: bool,
    /// Backoff or budget: no call may be made until then.
    pub waiting_until: Option<DateTime<Utc>>,
}

/// What one call gave.
enum Outcome {
    Made,
    Refused,
    Failed,
}

#[derive(Clone)]
pub(crate) struct LlmWorker {
    store: Store,
    llm: LlmConfig,
    client: Result<LlmClient, String>,
    words: usize,
}

impl LlmWorker {
    /// The worker for `config`, when it has `[llm]` and some topic uses it.
    pub(crate) fn new(config: &Config, store: Store) -> Option<LlmWorker> {
        let llm = config.llm.clone().filter(|_| config.uses_llm())?;
        let client = LlmClient::new(&llm, &config.defaults.user_agent);
        if let Err(problem) = &client {
            tracing::warn!("llm summaries paused: {problem}");
        }
        Some(LlmWorker {
            store,
            llm,
            client,
            words: config.defaults.summary_words,
        })
    }

    /// Asks the model for the summaries due now, as far as budget and backoff allow.
    pub(crate) async fn run_once(&self, config: Arc<Config>, metrics: &Metrics) -> LlmReport {
        let mut report = LlmReport::default();
        let Ok(client) = &self.client else {
            return report;
        };
        let worker = self.clone();
        let max_per_hour = self.llm.max_per_hour;
        let listed = tokio::task::spawn_blocking(move || {
            let state = worker.store.llm_state()?;
            // While nothing may be asked, the queue is not even read.
            if state.wait(Utc::now(), max_per_hour).is_some() {
                return Ok((state, Vec::new()));
            }
            let due = worker.due(&config, Utc::now())?;
            Ok::<_, StoreError>((state, due))
        })
        .await;
        let (mut state, due) = match listed {
            Ok(Ok(listed)) => listed,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list stories for llm summaries");
                return report;
            }
            Err(e) => {
                tracing::warn!(error = %e, "llm listing task failed");
                return report;
            }
        };
        metrics.llm_budget_left(state.budget_left(Utc::now(), self.llm.max_per_hour));
        if let Some(wait) = state.wait(Utc::now(), self.llm.max_per_hour) {
            report.waiting_until = Some(wait.until());
            return report;
        }
        let mut due = due.into_iter();
        let mut tasks = JoinSet::new();
        loop {
            // Budget and backoff are checked before each call, and the call is counted (and
            // stored) before it is made: a crash mid-call cannot hand out more than the budget.
            let mut stop = false;
            while tasks.len() < self.llm.concurrency {
                let Some((story, request)) = due.next() else {
                    break;
                };
                if let Err(wait) = state.take(Utc::now(), self.llm.max_per_hour) {
                    tracing::info!("llm summaries waiting: {wait}");
                    report.more_due = true;
                    stop = true;
                    break;
                }
                self.save_state(&state).await;
                let client = client.clone();
                tasks.spawn(async move {
                    let (started_at, started) = (Utc::now(), Instant::now());
                    let answer = client.complete(&request).await;
                    (story, request, answer, started_at, started.elapsed())
                });
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            let Ok((story, request, answer, started_at, elapsed)) = done else {
                continue;
            };
            let now = Utc::now();
            let ms = elapsed.as_millis() as u64;
            let outcome = match answer {
                Ok(text) => {
                    state.answered(started_at, now, ms);
                    self.take_answer(&story, &request, &text, now).await
                }
                Err(e) => {
                    tracing::warn!(story = %story.url, error = %e, "llm call failed");
                    state.failed(now, ms, &e);
                    stop = true;
                    Outcome::Failed
                }
            };
            match outcome {
                Outcome::Made => report.made += 1,
                Outcome::Refused => {
                    state.refused += 1;
                    report.refused += 1;
                }
                Outcome::Failed => report.failed += 1,
            }
            metrics.llm_call(outcome.label(), elapsed);
            if stop {
                // Calls in flight finish; no new one starts this round.
                due = Vec::new().into_iter();
            }
        }
        report.more_due |= due.next().is_some();
        report.waiting_until = state
            .wait(Utc::now(), self.llm.max_per_hour)
            .map(|w| w.until());
        metrics.llm_budget_left(state.budget_left(Utc::now(), self.llm.max_per_hour));
        self.save_state(&state).await;
        report
    }

    async fn save_state(&self, state: &LlmState) {
        let (store, state) = (self.store.clone(), state.clone());
        match tokio::task::spawn_blocking(move || store.put_llm_state(&state)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "llm state not stored"),
            Err(e) => tracing::warn!(error = %e, "llm state task failed"),
        }
    }

    /// Stores a usable answer, or records why it was refused (retried later with backoff).
    async fn take_answer(
        &self,
        story: &Story,
        request: &Request,
        text: &str,
        now: DateTime<Utc>,
    ) -> Outcome {
        let store = self.store.clone();
        let id = story.id;
        let asked_about = story.embedding_text_hash();
        match answer::clean(text, &request.messages[0].content, self.words) {
            Ok(clean) => {
                let summary = LlmSummary {
                    text: clean,
                    model: self.llm.model.clone(),
                    input_hash: request.input_hash,
                    made_at: now,
                };
                let stored = tokio::task::spawn_blocking(move || {
                    store.set_llm_summary(id, summary, asked_about)
                })
                .await;
                match stored {
                    Ok(Ok(_)) => Outcome::Made,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "llm summary not stored");
                        Outcome::Failed
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "llm summary task failed");
                        Outcome::Failed
                    }
                }
            }
            Err(refusal) => {
                // What it said, to tune the prompt by: the model's words, never the key.
                let said: String = text.chars().take(300).collect();
                tracing::info!(story = %story.url, reason = %refusal, answer = %said, "llm answer refused; the extractive summary stays");
                let hash = request.input_hash;
                let recorded = tokio::task::spawn_blocking(move || {
                    let mut attempt = store
                        .llm_attempt(id)?
                        .filter(|a| a.input_hash == hash)
                        .unwrap_or(LlmAttempt {
                            input_hash: hash,
                            ..LlmAttempt::default()
                        });
                    attempt.refused(now, refusal.to_string());
                    store.put_llm_attempt(id, &attempt)?;
                    if attempt.gave_up() {
                        store.dequeue(Queue::LlmSummaries, &[id])?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await;
                if !matches!(recorded, Ok(Ok(()))) {
                    tracing::warn!("llm refusal not recorded");
                }
                Outcome::Refused
            }
        }
    }

    /// Queued stories some LLM topic wants now, with their requests, best points first.
    /// Those done, gone, without text or not wanted leave the queue (points moving or a new
    /// text queue them again); those waiting for their input or a retry stay. Blocking.
    fn due(
        &self,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Story, Request)>, StoreError> {
        let topics: Vec<_> = config
            .topics
            .iter()
            .filter(|t| t.summaries.uses_llm())
            .collect();
        let mut due = Vec::new();
        let mut finished = Vec::new();
        // On a shared database, stories another node is asking the model about are left to it.
        for id in self.store.claim_queued(Queue::LlmSummaries, MAX_SCAN)? {
            let Some(story) = self.store.story(id)? else {
                finished.push(id);
                continue;
            };
            let Some(topic) = topics.iter().find(|t| wants(t, &story, now).is_ok()) else {
                finished.push(id);
                continue;
            };
            if pending(&self.store, topic, id)?.is_some() {
                continue;
            }
            let Some(request) = prompt::request(&self.llm, &story, self.words) else {
                finished.push(id);
                continue;
            };
            if story
                .llm_summary
                .as_ref()
                .is_some_and(|s| s.input_hash == request.input_hash)
            {
                finished.push(id);
                continue;
            }
            match self
                .store
                .llm_attempt(id)?
                .filter(|a| a.input_hash == request.input_hash)
            {
                Some(a) if a.gave_up() => finished.push(id),
                Some(a) if a.next_try.is_some_and(|t| t > now) => {}
                _ => due.push((story, request)),
            }
        }
        self.store.dequeue(Queue::LlmSummaries, &finished)?;
        due.sort_by_key(|(s, _)| std::cmp::Reverse(s.top_points()));
        Ok(due)
    }
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Made => "made",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}
