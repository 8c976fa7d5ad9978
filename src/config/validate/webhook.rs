//! `[[webhook]]`: where new items are POSTed, for which topics, signed with which key. The
//! key is read from the environment variable `secret_env` names and never shown.

use super::Checker;
use crate::config::raw::RawWebhook;
use crate::config::{Secret, WebhookConfig};
use std::collections::HashSet;
use std::time::Duration;
use toml::Spanned;

/// How long a failing delivery is retried unless `retry_for` says otherwise: a receiver
/// down over a night gets what it missed.
const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(86_400);

pub(super) fn validate_webhook(
    c: &mut Checker,
    raw: &Spanned<RawWebhook>,
    key: &str,
    slugs: &HashSet<String>,
) -> Option<WebhookConfig> {
    let raw = raw.get_ref();
    let url = raw
        .url
        .as_ref()
        .and_then(|u| c.http_url(u, &format!("{key}.url")));
    let topics = raw.topics.as_ref().map(|list| {
        let mut out = Vec::new();
        for slug in list.get_ref() {
            if slugs.contains(slug.get_ref()) {
                out.push(slug.get_ref().clone());
            } else {
                c.error(
                    slug.span(),
                    format!("{key}.topics"),
                    format!("no topic has the slug {:?}", slug.get_ref()),
                );
            }
        }
        out
    });
    if let Some(f) = &raw.format {
        if f.get_ref() != "jsonfeed" {
            c.error(
                f.span(),
                format!("{key}.format"),
                format!(
                    "{:?} is not a format webhooks send (expected jsonfeed)",
                    f.get_ref()
                ),
            );
        }
    }
    let retry_for = c.duration_within(
        &raw.retry_for,
        &format!("{key}.retry_for"),
        DEFAULT_RETRY_FOR,
        Duration::from_secs(1),
        Duration::from_secs(30 * 86_400),
    );
    let secret = match &raw.secret_env {
        None => None,
        Some(name) => secret_from_env(c, name, &format!("{key}.secret_env")),
    };
    if raw.secret_env.is_some() && secret.is_none() {
        return None;
    }
    Some(WebhookConfig {
        url: url?,
        retry_for,
        topics,
        secret_env: raw.secret_env.as_ref().map(|n| n.get_ref().clone()),
        secret,
    })
}

/// The key in the variable `name`; errors say which variable, never what it holds.
fn secret_from_env(c: &mut Checker, name: &Spanned<String>, key: &str) -> Option<Secret> {
    let n = name.get_ref();
    let well_formed = n
        .chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !well_formed {
        c.error(
            name.span(),
            key,
            format!("{n:?} is not an environment variable name (letters, digits and _)"),
        );
        return None;
    }
    match std::env::var_os(n) {
        Some(v) if !v.is_empty() => Some(Secret(v.into_encoded_bytes())),
        _ => {
            c.error(
                name.span(),
                key,
                format!(
                    "the environment variable {n} holding the webhook's key is not set or empty"
                ),
            );
            None
        }
    }
}
