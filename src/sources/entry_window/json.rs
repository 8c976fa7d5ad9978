//! A JSON Feed cut to its newest items: the document is read as raw, borrowed members (no
//! item is built), and written again with only the kept items' bytes.

use super::{older_than_newest, parse_date, Window};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The dates of one item, all that is read of it.
#[derive(Deserialize)]
struct Dates<'a> {
    #[serde(borrow, default)]
    date_published: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    date_modified: Option<Cow<'a, str>>,
}

/// `body` with all but its newest `max` items; `None` when it is no JSON object with an
/// `items` array (the parser then says what is wrong with it) or holds no more than `max`.
pub(super) fn newest(body: &[u8], max: usize, undated: DateTime<Utc>) -> Option<Window<'_>> {
    // Every item is an object inside the document's: fewer braces than `max` + 1, nothing
    // to cut, and no need to read the document twice.
    if memchr::memchr_iter(b'{', body).count() <= max + 1 {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut members: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(text).ok()?;
    let items: Vec<&RawValue> = serde_json::from_str(members.remove("items")?.get()).ok()?;
    if items.len() <= max {
        return None;
    }
    let times = items.iter().map(|item| {
        serde_json::from_str::<Dates>(item.get())
            .ok()
            .and_then(|d| {
                let date = |t: Option<Cow<'_, str>>| t.and_then(|t| parse_date(&t));
                date(d.date_published).or_else(|| date(d.date_modified))
            })
            .unwrap_or(undated)
    });
    let cut = older_than_newest(times, max);
    let mut out = Vec::with_capacity(body.len());
    out.push(b'{');
    for (name, value) in &members {
        // A name re-encoded as JSON cannot fail: it is a string.
        out.extend_from_slice(serde_json::to_string(name).ok()?.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(b"\"items\":[");
    let kept = items.iter().zip(&cut).filter(|(_, cut)| !**cut);
    for (n, (item, _)) in kept.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.get().as_bytes());
    }
    out.extend_from_slice(b"]}");
    Some(Window {
        body: Cow::Owned(out),
        dropped: items.len() - max,
    })
}

#[cfg(test)]
mod tests {
    use super::super::newest as window;
    use super::super::tests::{feed_rs, titles};
    use chrono::{Duration, TimeZone, Utc};
    use std::borrow::Cow;

    fn fetched() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    /// A JSON Feed of items `Item i`, item i dated `minutes[i]` minutes before the fetch
    /// (undated when `None`); every third item has only `date_modified`.
    fn json_feed(minutes: &[Option<i64>]) -> String {
        let items: Vec<String> = minutes
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let date = m.map_or(String::new(), |m| {
                    let at = (fetched() - Duration::minutes(m)).to_rfc3339();
                    let field = if i % 3 == 2 { "date_modified" } else { "date_published" };
                    format!(r#","{field}":"{at}""#)
                });
                format!(
                    r#"{{"id":"urn:{i}","url":"https://example.com/s/{i}","title":"Item {i}","content_text":"{{\"x\": [1]}} é"{date}}}"#
                )
            })
            .collect();
        format!(
            "\u{feff}{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Many \\\"quoted\\\"\",\"home_page_url\":\"https://example.com/\",\"items\":[{}]}}",
            items.join(",\n")
        )
    }

    #[test]
    fn a_json_feed_keeps_its_newest_items_and_its_other_members() {
        let minutes = [Some(50), None, Some(10), Some(40), Some(20), Some(30), None];
        let doc = json_feed(&minutes);
        let cut = window(doc.as_bytes(), 4, fetched());
        assert_eq!(cut.dropped, 3);
        assert!(matches!(cut.body, Cow::Owned(_)));
        // Undated items count as newest (the fetch time), then 10, 20 minutes old.
        assert_eq!(
            titles(&feed_rs(&cut.body)),
            ["Item 1", "Item 2", "Item 4", "Item 6"]
        );
        let whole = feed_rs(doc.trim_start_matches('\u{feff}').as_bytes());
        let parsed = feed_rs(&cut.body);
        assert_eq!(parsed.title, whole.title);
        assert_eq!(parsed.links, whole.links);
        assert_eq!(
            parsed.entries[0], whole.entries[1],
            "items are kept byte for byte"
        );
    }

    #[test]
    fn a_json_feed_within_the_cap_or_broken_is_left_as_it_is() {
        let doc = json_feed(&[Some(1), Some(2)]);
        assert!(matches!(
            window(doc.as_bytes(), 2, fetched()).body,
            Cow::Borrowed(_)
        ));
        let broken = doc.replace("]}", "]");
        let left = window(broken.as_bytes(), 1, fetched());
        assert!(matches!(left.body, Cow::Borrowed(_)) && left.dropped == 0);
        let no_items = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t"}"#;
        assert!(matches!(
            window(no_items.as_bytes(), 0, fetched()).body,
            Cow::Borrowed(_)
        ));
    }
}
