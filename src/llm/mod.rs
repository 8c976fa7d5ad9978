//! The optional language model behind `summaries = "llm"`: the chat-completions call
//! (`client`), the messages and the cache key (`prompt`), what makes an answer fit to show
//! (`answer`), and the hourly budget with the worker's backoff (`state`). I/O only in `client`.

pub(crate) mod answer;
pub(crate) mod client;
pub(crate) mod prompt;
pub(crate) mod state;

pub(crate) use client::{LlmClient, LlmError};
pub(crate) use state::LlmState;
