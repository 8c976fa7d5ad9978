//! Validation of `[llm]`: the endpoint, the model, the name of the API key's environment
//! variable (never a key), timeouts and the budget.

use super::Checker;
use crate::config::raw::RawLlm;
use crate::config::{LlmConfig, MAX_TIMEOUT};
use std::time::Duration;
use toml::Spanned;

pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_CONCURRENCY: i64 = 2;
const DEFAULT_MAX_PER_HOUR: i64 = 60;
const DEFAULT_MAX_INPUT_WORDS: i64 = 300;
/// The longest `prompt`: it is sent with every call.
const MAX_PROMPT_CHARS: usize = 4000;

pub(super) fn validate_llm(c: &mut Checker, l: &Spanned<RawLlm>) -> Option<LlmConfig> {
    let raw = l.get_ref();
    let endpoint = match &raw.endpoint {
        Some(v) => c.http_url(v, "llm.endpoint"),
        None => {
            c.error(
                l.span(),
                "llm",
                "missing key `endpoint` (the API's base URL, e.g. \"http://127.0.0.1:11434/v1\")",
            );
            None
        }
    };
    let model = match &raw.model {
        Some(v) if v.get_ref().trim().is_empty() => {
            c.error(v.span(), "llm.model", "must not be empty");
            None
        }
        Some(v) => Some(v.get_ref().trim().to_string()),
        None => {
            c.error(
                l.span(),
                "llm",
                "missing key `model` (the model's name at the endpoint)",
            );
            None
        }
    };
    let api_key_env = raw.api_key_env.as_ref().and_then(|v| {
        if is_env_name(v.get_ref()) {
            Some(v.get_ref().clone())
        } else {
            // Never echo the value: it may be the key itself, pasted here by mistake.
            c.error(
                v.span(),
                "llm.api_key_env",
                "must name an environment variable (letters, digits and _, e.g. OPENAI_API_KEY); the key itself never goes in feeds.toml",
            );
            None
        }
    });
    let prompt = raw.prompt.as_ref().and_then(|v| {
        let text = v.get_ref().trim();
        if text.is_empty() {
            c.error(
                v.span(),
                "llm.prompt",
                "must not be empty (leave it out for the default)",
            );
            None
        } else if text.chars().count() > MAX_PROMPT_CHARS {
            let msg = format!("is too long (at most {MAX_PROMPT_CHARS} characters)");
            c.error(v.span(), "llm.prompt", msg);
            None
        } else {
            Some(text.to_string())
        }
    });
    let timeout = c.duration_within(
        &raw.timeout,
        "llm.timeout",
        DEFAULT_TIMEOUT,
        Duration::ZERO,
        MAX_TIMEOUT,
    );
    let concurrency = c.count(
        &raw.concurrency,
        "llm.concurrency",
        1..17,
        DEFAULT_CONCURRENCY,
    );
    let max_per_hour = c.count(
        &raw.max_per_hour,
        "llm.max_per_hour",
        1..1_000_001,
        DEFAULT_MAX_PER_HOUR,
    );
    let max_input_words = c.count(
        &raw.max_input_words,
        "llm.max_input_words",
        20..5001,
        DEFAULT_MAX_INPUT_WORDS,
    );
    Some(LlmConfig {
        endpoint: endpoint?,
        model: model?,
        api_key_env,
        timeout,
        concurrency: concurrency as usize,
        max_per_hour: max_per_hour as u32,
        max_input_words: max_input_words as usize,
        prompt,
    })
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
