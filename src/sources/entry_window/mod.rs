//! Cuts a feed (RSS 0.9x/2.0, RSS 1.0, Atom; JSON Feed in `json`) down to its newest entries
//! before it is parsed, so a response of 74k items never becomes 74k parsed entries: bytes
//! in, bytes out.

mod json;

use super::site_json::from_rfc3339;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::borrow::Cow;
use std::cmp::Reverse;

/// A feed document holding at most the newest `max` entries of the one it was cut from.
#[derive(Debug)]
pub(crate) struct Window<'a> {
    /// The document without the bytes of the entries cut (the input itself when none were).
    pub(crate) body: Cow<'a, [u8]>,
    /// How many entries were cut.
    pub(crate) dropped: usize,
}

/// `body` with all but its newest `max` entries removed. An entry's time is its
/// published date, else its updated date, else `undated` (ingest stamps undated entries
/// with the fetch time, and orders by the same rule: the two must agree on which are newest);
/// entries of the same time keep document order. Everything outside the entries cut is
/// kept byte for byte. Entries after an XML error are not seen, so not cut: the part from
/// the error on is left as it is for the parser (and its repair) to judge.
pub(crate) fn newest(body: &[u8], max: usize, undated: DateTime<Utc>) -> Window<'_> {
    let whole = Window {
        body: Cow::Borrowed(body),
        dropped: 0,
    };
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if text.trim_ascii_start().starts_with(b"{") {
        return json::newest(body, max, undated).unwrap_or(whole);
    }
    // Nearly every feed is far below the cap: a byte search says so without an XML scan.
    if possible_entries(body) <= max {
        return whole;
    }
    let entries = scan(body, undated);
    if entries.len() <= max {
        return whole;
    }
    let cut = older_than_newest(entries.iter().map(|e| e.at), max);
    let cut_spans = || {
        entries
            .iter()
            .zip(&cut)
            .filter(|(_, cut)| **cut)
            .map(|(entry, _)| entry)
    };
    let cut_bytes: usize = cut_spans().map(|e| e.end - e.start).sum();
    let mut out = Vec::with_capacity(body.len() - cut_bytes);
    let mut from = 0;
    for entry in cut_spans() {
        out.extend_from_slice(&body[from..entry.start]);
        from = entry.end;
    }
    out.extend_from_slice(&body[from..]);
    Window {
        body: Cow::Owned(out),
        dropped: entries.len() - max,
    }
}

/// For each entry (by its time, in document order), whether it is older than the newest
/// `max`. A stable sort: entries of one time stay in document order, as in ingest's sort.
fn older_than_newest(times: impl Iterator<Item = DateTime<Utc>>, max: usize) -> Vec<bool> {
    let times: Vec<DateTime<Utc>> = times.collect();
    let mut by_age: Vec<usize> = (0..times.len()).collect();
    by_age.sort_by_key(|&i| Reverse(times[i]));
    let mut cut = vec![true; times.len()];
    for &i in by_age.iter().take(max) {
        cut[i] = false;
    }
    cut
}

/// At least as many as the entries `body` can hold: every `item` or `entry` right after a
/// `<` or a namespace prefix's `:` (so `<item`, `<rss:item`, `<atom:entry`), wherever it is.
fn possible_entries(body: &[u8]) -> usize {
    [&b"item"[..], b"entry"]
        .iter()
        .map(|name| {
            memchr::memmem::find_iter(body, name)
                .filter(|&at| at > 0 && matches!(body[at - 1], b'<' | b':'))
                .count()
        })
        .sum()
}

/// Where one entry's bytes are in the document, and its time.
#[derive(Debug)]
struct Entry {
    start: usize,
    end: usize,
    at: DateTime<Utc>,
}

/// The document kinds with entries to cut, told by the root element.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// `<rss>`: `<item>`s in the first `<channel>` (the only one feed-rs reads).
    Rss,
    /// `<rdf:RDF>` (RSS 1.0): `<item>`s beside the channel, under the root.
    Rdf,
    /// `<feed>`: `<entry>`s under the root.
    Atom,
}

impl Format {
    fn of_root(local_name: &[u8]) -> Option<Format> {
        match local_name {
            b"rss" => Some(Format::Rss),
            b"RDF" => Some(Format::Rdf),
            b"feed" => Some(Format::Atom),
            _ => None,
        }
    }

    /// The depth of entries (the root's children are at 1) and their local name.
    fn entries(self) -> (usize, &'static [u8]) {
        match self {
            Format::Rss => (2, b"item"),
            Format::Rdf => (1, b"item"),
            Format::Atom => (1, b"entry"),
        }
    }
}

/// A date child of an entry: which field it sets.
#[derive(Debug, Clone, Copy)]
enum DateField {
    Published,
    Updated,
}

impl DateField {
    /// RSS `pubDate`, Atom `published` and `dc:date` are the published date, as in feed-rs.
    fn of(local_name: &[u8]) -> Option<DateField> {
        match local_name {
            b"pubDate" | b"published" | b"date" => Some(DateField::Published),
            b"updated" => Some(DateField::Updated),
            _ => None,
        }
    }
}

/// The entry being read: where it starts and its dates so far.
struct Open {
    start: usize,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
}

/// Longer text is no date: it is not collected (a hostile feed's 10 MB `pubDate` is not copied).
const MAX_DATE_LEN: usize = 80;

/// Every complete entry of `body` in document order, up to the end of the root element or
/// the first XML error. Bodies whose root is no feed (JSON, HTML) have none.
fn scan(body: &[u8], undated: DateTime<Utc>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut reader = Reader::from_reader(body);
    let mut format = None;
    // Elements open: an element begins at the depth of those around it (root 0, children 1).
    let mut depth = 0usize;
    // RSS: whether the element open at depth 1 is the first `<channel>`, and whether one began.
    let (mut in_first_channel, mut seen_channel) = (false, false);
    let mut open: Option<Open> = None;
    // The date child of `open` being read, and its text: one buffer for the whole scan.
    let mut date: Option<DateField> = None;
    let mut date_text = String::new();
    loop {
        // Events are read from the slice: the position before one is where its `<` is.
        let start = reader.buffer_position() as usize;
        let Ok(event) = reader.read_event() else {
            break;
        };
        let element = match &event {
            Event::Start(e) => Some((e.local_name(), false)),
            Event::Empty(e) => Some((e.local_name(), true)),
            _ => None,
        };
        if let Some((name, empty)) = element {
            let name = name.as_ref();
            let Some(format) = format else {
                format = Format::of_root(name);
                if format.is_none() || empty {
                    break;
                }
                depth = 1;
                continue;
            };
            let (entry_depth, entry_name) = format.entries();
            if format == Format::Rss && depth == 1 && name == b"channel" {
                in_first_channel = !seen_channel && !empty;
                seen_channel = true;
            }
            let is_entry = depth == entry_depth
                && name == entry_name
                && (format != Format::Rss || in_first_channel);
            if is_entry && empty {
                entries.push(Entry {
                    start,
                    end: reader.buffer_position() as usize,
                    at: undated,
                });
            } else if is_entry {
                open = Some(Open {
                    start,
                    published: None,
                    updated: None,
                });
            } else if depth == entry_depth + 1 && open.is_some() && !empty {
                date = DateField::of(name);
                date_text.clear();
            }
            if !empty {
                depth += 1;
            }
            continue;
        }
        match event {
            Event::Text(text) if date.is_some() => collect(&mut date_text, &text),
            Event::CData(text) if date.is_some() => collect(&mut date_text, &text),
            Event::End(_) => {
                let Some(format) = format else { break };
                let (entry_depth, _) = format.entries();
                // Quick-xml checks that end tags match: `depth` counts open elements exactly.
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    // The root is closed: what follows is no part of the feed.
                    break;
                } else if depth == entry_depth + 1 {
                    if let (Some(field), Some(entry)) = (date.take(), open.as_mut()) {
                        // Each date element sets its field, as in feed-rs: the last one wins.
                        let at = parse_date(&date_text);
                        match field {
                            DateField::Published => entry.published = at,
                            DateField::Updated => entry.updated = at,
                        }
                    }
                } else if depth == entry_depth {
                    if let Some(entry) = open.take() {
                        entries.push(Entry {
                            start: entry.start,
                            end: reader.buffer_position() as usize,
                            at: entry.published.or(entry.updated).unwrap_or(undated),
                        });
                    }
                }
                if depth == 1 {
                    in_first_channel = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    entries
}

/// Appends one piece of a date's text, unless that makes it too long to be a date.
fn collect(date_text: &mut String, piece: &[u8]) {
    match std::str::from_utf8(piece) {
        Ok(piece) if date_text.len() + piece.len() <= MAX_DATE_LEN => date_text.push_str(piece),
        // No date format starts with a NUL: the text is no date.
        _ => {
            date_text.clear();
            date_text.push('\0');
        }
    }
}

/// An RFC 3339 or RFC 2822 date, leniently: a space for the `T`, no offset (taken as UTC),
/// a date alone; a wrong, full or missing weekday, `UTC` for `+0000`.
fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(at) = from_rfc3339(text) {
        return Some(at);
    }
    if let Ok(at) = DateTime::parse_from_rfc2822(text) {
        return Some(at.to_utc());
    }
    let no_weekday = text
        .split_once(',')
        .map_or(text, |(_, rest)| rest)
        .trim_start();
    let zoned = match no_weekday.strip_suffix("UTC") {
        Some(rest) => Cow::Owned(format!("{rest}+0000")),
        None => Cow::Borrowed(no_weekday),
    };
    if let Ok(at) = DateTime::parse_from_rfc2822(&zoned) {
        return Some(at.to_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
        })
        .map(|at| at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn fetched() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    /// Entry `i`'s time: `minutes[i]` minutes before the fetch, or undated.
    fn at(minutes: Option<i64>) -> Option<DateTime<Utc>> {
        minutes.map(|m| fetched() - Duration::minutes(m))
    }

    /// `head`, one line per entry made by `entry` from its index and time, and `tail`.
    fn document(
        head: &str,
        minutes: &[Option<i64>],
        entry: impl Fn(usize, Option<DateTime<Utc>>) -> String,
        tail: &str,
    ) -> String {
        let entries: String = minutes
            .iter()
            .enumerate()
            .map(|(i, m)| entry(i, at(*m)) + "\n")
            .collect();
        format!("{head}\n{entries}{tail}")
    }

    fn rss(minutes: &[Option<i64>]) -> String {
        let head = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel><title>Many</title><link>https://example.com/</link><description>d</description>";
        let item = |i: usize, at: Option<DateTime<Utc>>| {
            // Every third dated entry has `dc:date` instead of `pubDate`.
            let date = at.map_or(String::new(), |t| match i % 3 {
                2 => format!("<dc:date>{}</dc:date>", t.to_rfc3339()),
                _ => format!("<pubDate>{}</pubDate>", t.to_rfc2822()),
            });
            format!("  <item><title>Item {i}</title><link>https://example.com/s/{i}</link>{date}<description><![CDATA[<p>item {i}</p>]]></description></item>")
        };
        document(head, minutes, item, "</channel>\n</rss>\n")
    }

    fn atom(minutes: &[Option<i64>]) -> String {
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Many</title><link href=\"https://example.com/\"/><id>urn:many</id><updated>2026-11-21T12:00:00Z</updated>";
        let entry = |i: usize, at: Option<DateTime<Utc>>| {
            // `published` wins over `updated`, which the even entries put first, a day newer.
            let updated = |t: DateTime<Utc>| format!("<updated>{}</updated>", t.to_rfc3339());
            let date = at.map_or(String::new(), |t| match i % 2 {
                0 => {
                    updated(t + Duration::days(1))
                        + &format!("<published>{}</published>", t.to_rfc3339())
                }
                _ => updated(t),
            });
            format!("<entry><title>Item {i}</title><id>urn:item:{i}</id><link href=\"https://example.com/s/{i}\"/>{date}</entry>")
        };
        document(head, minutes, entry, "</feed>")
    }

    fn rdf(minutes: &[Option<i64>]) -> String {
        let head = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel rdf:about=\"https://example.com/\"><title>Many</title><link>https://example.com/</link><description>d</description></channel>";
        let item = |i: usize, at: Option<DateTime<Utc>>| {
            let date = at.map_or(String::new(), |t| {
                format!("<dc:date>{}</dc:date>", t.to_rfc3339())
            });
            format!("<item rdf:about=\"https://example.com/s/{i}\"><title>Item {i}</title><link>https://example.com/s/{i}</link>{date}</item>")
        };
        document(head, minutes, item, "</rdf:RDF>\n")
    }

    /// Times out of order, with ties and undated entries among them.
    fn shuffled_times(n: usize) -> Vec<Option<i64>> {
        (0..n)
            .map(|i| (i % 7 != 3).then_some(((i * 37) % 50) as i64 * 60))
            .collect()
    }

    /// The indexes of the newest `max` entries by ingest's rule, in document order.
    fn newest_by_ingest_rule(minutes: &[Option<i64>], max: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..minutes.len()).collect();
        order.sort_by_key(|&i| Reverse(at(minutes[i]).unwrap_or(fetched())));
        order.truncate(max);
        order.sort();
        order
    }

    pub(super) fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
        feed.entries
            .iter()
            .map(|e| {
                e.title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub(super) fn feed_rs(body: &[u8]) -> feed_rs::model::Feed {
        feed_rs::parser::parse(body).expect("feed-rs parses the document")
    }

    /// Cuts `doc` to `max` and checks the newest are kept, as feed-rs reads them.
    fn assert_keeps_newest(doc: &str, minutes: &[Option<i64>], max: usize) {
        let window = newest(doc.as_bytes(), max, fetched());
        assert_eq!(window.dropped, minutes.len() - max);
        assert!(matches!(window.body, Cow::Owned(_)));
        let (whole, cut) = (feed_rs(doc.as_bytes()), feed_rs(&window.body));
        let kept = newest_by_ingest_rule(minutes, max);
        let expected: Vec<String> = kept.iter().map(|i| format!("Item {i}")).collect();
        assert_eq!(titles(&cut), expected);
        // The same entries as the whole document's, field for field, and the same feed.
        let whole_kept: Vec<_> = kept.iter().map(|&i| &whole.entries[i]).collect();
        assert_eq!(cut.entries.iter().collect::<Vec<_>>(), whole_kept);
        assert_eq!(cut.title, whole.title);
        assert_eq!(cut.links, whole.links);
        assert_eq!(cut.feed_type, whole.feed_type);
    }

    #[test]
    fn rss_atom_and_rdf_keep_their_newest_entries() {
        let minutes = shuffled_times(60);
        for max in [1, 10, 59] {
            assert_keeps_newest(&rss(&minutes), &minutes, max);
            assert_keeps_newest(&atom(&minutes), &minutes, max);
            assert_keeps_newest(&rdf(&minutes), &minutes, max);
        }
    }

    #[test]
    fn undated_entries_count_as_newest_and_ties_keep_document_order() {
        let minutes = [Some(5), None, Some(1), Some(1), None, Some(1), Some(9)];
        let doc = rss(&minutes);
        let window = newest(doc.as_bytes(), 4, fetched());
        assert_eq!(
            titles(&feed_rs(&window.body)),
            ["Item 1", "Item 2", "Item 3", "Item 4"]
        );
    }

    #[test]
    fn only_the_entries_cut_are_removed() {
        let minutes = [Some(1), Some(3), Some(2)];
        let doc = rss(&minutes);
        let window = newest(doc.as_bytes(), 2, fetched());
        let cut_entry = doc
            .lines()
            .find(|l| l.contains("Item 1"))
            .unwrap()
            .trim_start();
        assert_eq!(
            String::from_utf8(window.body.into_owned()).unwrap(),
            doc.replacen(cut_entry, "", 1)
        );
    }

    #[test]
    fn the_byte_search_never_counts_fewer_entries_than_the_scan() {
        let minutes = shuffled_times(30);
        let prefixed = "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\"><a:entry/><a:entry>\
            <a:updated>2026-11-20T00:00:00Z</a:updated></a:entry></a:feed>";
        for doc in [
            rss(&minutes),
            atom(&minutes),
            rdf(&minutes),
            prefixed.to_string(),
        ] {
            let found = scan(doc.as_bytes(), Utc::now()).len();
            assert!(found > 0, "{doc}");
            assert!(possible_entries(doc.as_bytes()) >= found, "{doc}");
        }
    }

    #[test]
    fn a_document_within_the_cap_is_returned_as_it_is() {
        let minutes = shuffled_times(20);
        for doc in [rss(&minutes), atom(&minutes), rdf(&minutes)] {
            for max in [20, 1000] {
                let window = newest(doc.as_bytes(), max, fetched());
                assert!(matches!(window.body, Cow::Borrowed(b) if b == doc.as_bytes()));
                assert_eq!(window.dropped, 0);
            }
        }
        for other in [
            &b"{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": []}"[..],
            b"\xEF\xBB\xBF  {\"items\": [\"<rss><channel><item/><item/></channel></rss>\"]}",
            b"<html><body><rss><channel><item/><item/></channel></rss></body></html>",
            b"",
            b"<rss/>",
        ] {
            let window = newest(other, 1, fetched());
            assert!(matches!(window.body, Cow::Borrowed(b) if b == other));
        }
    }

    #[test]
    fn a_document_broken_after_entry_50_keeps_its_broken_tail() {
        let minutes: Vec<Option<i64>> = (0..80).map(|i| Some(i * 10)).collect();
        let doc = rss(&minutes);
        let broken_at = doc.find("<item><title>Item 50<").unwrap();
        let doc = doc.replacen("<title>Item 50</title>", "<title>Item 50</titel>", 1);
        let window = newest(doc.as_bytes(), 10, fetched());
        // Items 0-9 are the newest of the 50 complete before the error.
        assert_eq!(window.dropped, 40);
        let body = std::str::from_utf8(&window.body).unwrap();
        assert!(body.ends_with(&doc[broken_at..]), "{body}");
        assert!(
            body.contains("Item 9<") && !body.contains("Item 10<"),
            "{body}"
        );
        assert!(body.contains("Item 79<"));
    }

    #[test]
    fn markup_in_cdata_comments_and_extensions_is_no_entry() {
        let doc = "<rss version=\"2.0\" xmlns:x=\"urn:x\"><channel><title>t</title>\
            <description><![CDATA[<item><title>no</title></item>]]></description>\
            <!-- <item><title>no</title></item> -->\
            <item><title>a</title><x:items><x:item><pubDate>Mon, 01 Jan 1990 00:00:00 GMT</pubDate></x:item></x:items>\
              <description><![CDATA[<item>no</item>]]></description></item>\
            <item><title>b</title><x:item/></item>\
            <x:group><item><title>no</title></item></x:group>\
            </channel><channel><item><title>not read by feed-rs</title></item></channel></rss>";
        let entries = scan(doc.as_bytes(), fetched());
        let spans: Vec<&str> = entries.iter().map(|e| &doc[e.start..e.end]).collect();
        assert_eq!(spans.len(), 2, "{spans:#?}");
        assert!(spans[0].starts_with("<item><title>a<") && spans[0].ends_with("</item>"));
        assert_eq!(spans[1], "<item><title>b</title><x:item/></item>");
        // The nested `pubDate` is no date of the entry.
        assert_eq!(entries[0].at, fetched());
    }

    #[test]
    fn atom_entries_inside_a_source_are_no_entries() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><source><entry/></source>\
            <published>2026-11-20T00:00:00Z</published></entry><entry/></feed>";
        let entries = scan(doc.as_bytes(), fetched());
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].at,
            Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
        );
        assert_eq!(&doc[entries[1].start..entries[1].end], "<entry/>");
    }

    #[test]
    fn dates_are_read_leniently() {
        let noon = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        for text in [
            "2026-11-20T12:00:00Z",
            " 2026-11-20T13:00:00+01:00\n",
            "2026-11-20 12:00:00Z",
            "2026-11-20T12:00:00",
            "2026-11-20 12:00:00.000",
            "Fri, 20 Nov 2026 12:00:00 GMT",
            "Fri, 20 Nov 2026 12:00:00 +0000",
            "20 Nov 2026 12:00:00 GMT",
            "Monday, 20 Nov 2026 12:00:00 GMT",
            "Mon, 20 Nov 2026 12:00:00 UTC",
            "Fri, 20 Nov 2026 07:00:00 EST",
        ] {
            assert_eq!(parse_date(text), Some(noon), "{text:?}");
        }
        assert_eq!(
            parse_date("2026-11-20"),
            Some(Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap())
        );
        for text in ["", "yesterday", "\0", "2026-13-40"] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_date_split_by_cdata_is_read_and_a_long_one_is_not_kept() {
        let doc = format!(
            "<rss><channel><item><pubDate>Fri, 20 Nov <![CDATA[2026 12:00:00]]> GMT</pubDate></item>\
             <item><pubDate>{}</pubDate></item></channel></rss>",
            "9".repeat(10_000)
        );
        let entries = scan(doc.as_bytes(), fetched());
        let noon = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.at).collect::<Vec<_>>(),
            [noon, fetched()]
        );
    }
}
