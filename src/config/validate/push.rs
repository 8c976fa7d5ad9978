//! `[push]`: the WebSub hubs every feed names and pings, and how often one topic may ping.

use super::Checker;
use crate::config::raw::RawPush;
use crate::config::{PushConfig, DEFAULT_PUSH_INTERVAL, MAX_DURATION};
use std::time::Duration;

pub(super) fn validate_push(c: &mut Checker, raw: &RawPush) -> PushConfig {
    let mut hubs = Vec::new();
    for hub in raw.hubs.iter().flat_map(|list| list.get_ref()) {
        let Some(url) = c.http_url(hub, "push.hubs") else {
            continue;
        };
        if hubs.contains(&url) {
            c.error(
                hub.span(),
                "push.hubs",
                format!("hub {:?} is listed twice", hub.get_ref()),
            );
        } else {
            hubs.push(url);
        }
    }
    // A second is the floor: pings faster than that only load the hub.
    let min_interval = c.duration_within(
        &raw.min_interval,
        "push.min_interval",
        DEFAULT_PUSH_INTERVAL,
        Duration::from_secs(1),
        MAX_DURATION,
    );
    PushConfig { hubs, min_interval }
}
