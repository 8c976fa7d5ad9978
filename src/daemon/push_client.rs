//! The HTTP client the push chores (WebSub, webhooks) POST with: the fetch settings of the
//! running config (user agent, timeout), rebuilt only when a reload changes the config.

use crate::config::Config;
use crate::fetch::Fetcher;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct PushClient {
    built: Option<(Arc<Config>, Fetcher)>,
}

impl PushClient {
    /// The client for `config`; none (and logged) when it cannot be built.
    pub(super) fn for_config(&mut self, config: &Arc<Config>) -> Option<Fetcher> {
        if let Some((built_for, fetcher)) = &self.built {
            if Arc::ptr_eq(built_for, config) {
                return Some(fetcher.clone());
            }
        }
        match crate::ingest::fetcher(config) {
            Ok(fetcher) => {
                self.built = Some((Arc::clone(config), fetcher.clone()));
                Some(fetcher)
            }
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client to push with");
                None
            }
        }
    }
}
