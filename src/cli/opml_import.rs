//! `import-opml`: the feeds of a reader's OPML export become `kind = "feed"` sources,
//! appended to feeds.toml as text (comments and layout of the file are kept), skipping feeds
//! whose canonical URL a source already has.

use crate::config::Config;
use crate::normalize::canonical_url;
use crate::sources::SourceKind;
use quick_xml::events::Event;

/// One feed listed in an OPML file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpmlEntry {
    pub title: String,
    pub xml_url: String,
}

/// Every outline with an `xmlUrl`, nested folders included.
pub(crate) fn parse_opml(text: &str) -> Result<Vec<OpmlEntry>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut entries = Vec::new();
    let mut saw_opml = false;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.local_name();
                if name.as_ref().eq_ignore_ascii_case(b"opml") {
                    saw_opml = true;
                }
                if !name.as_ref().eq_ignore_ascii_case(b"outline") {
                    continue;
                }
                let (mut url, mut text, mut title) = (None, None, None);
                for attr in e.attributes().flatten() {
                    let value = attr
                        .unescape_value()
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    match attr
                        .key
                        .local_name()
                        .as_ref()
                        .to_ascii_lowercase()
                        .as_slice()
                    {
                        b"xmlurl" => url = Some(value),
                        b"text" => text = Some(value),
                        b"title" => title = Some(value),
                        _ => {}
                    }
                }
                if let Some(xml_url) = url.filter(|u| !u.is_empty()) {
                    let title = title.filter(|t| !t.is_empty()).or(text).unwrap_or_default();
                    entries.push(OpmlEntry { title, xml_url });
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "not valid OPML at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
    }
    if !saw_opml {
        return Err("not an OPML document (no <opml> element)".into());
    }
    Ok(entries)
}

/// A source to add.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewSource {
    pub id: String,
    pub name: String,
    pub url: String,
}

/// The entries not yet in `config` (by canonical URL, also within the file), with unique ids;
/// and the entries skipped, each with the reason.
pub(crate) fn plan(
    config: &Config,
    entries: &[OpmlEntry],
) -> (Vec<NewSource>, Vec<(OpmlEntry, String)>) {
    let mut known_urls: Vec<String> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Feed)
        .filter_map(|s| canonical_url(s.url.as_str()).ok())
        .collect();
    let mut ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
    let mut added = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        let canonical = match canonical_url(&entry.xml_url) {
            Ok(c) => c,
            Err(e) => {
                skipped.push((entry.clone(), e.to_string()));
                continue;
            }
        };
        if known_urls.contains(&canonical) {
            skipped.push((entry.clone(), "already a source".into()));
            continue;
        }
        let id = unique_id(&slug(&entry.title, &entry.xml_url), &ids);
        ids.push(id.clone());
        known_urls.push(canonical);
        let name = if entry.title.is_empty() {
            id.clone()
        } else {
            entry.title.clone()
        };
        added.push(NewSource {
            id,
            name,
            url: entry.xml_url.clone(),
        });
    }
    (added, skipped)
}

/// `text` with one `[[source]]` block per new source appended.
pub(crate) fn append_sources(text: &str, sources: &[NewSource], origin: &str) -> String {
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("\n# Imported from {origin}\n"));
    for s in sources {
        out.push_str(&format!(
            "\n[[source]]\nid = {}\nkind = \"feed\"\nurl = {}\nname = {}\n",
            toml_string(&s.id),
            toml_string(&s.url),
            toml_string(&s.name)
        ));
    }
    out
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// `a-z0-9-` from the title (or the feed's host), at most 40 characters.
fn slug(title: &str, url: &str) -> String {
    let source = if title.chars().any(|c| c.is_ascii_alphanumeric()) {
        title.to_string()
    } else {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "feed".into())
    };
    let mut slug = String::new();
    for c in source.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "feed".into()
    } else {
        slug
    }
}

fn unique_id(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_in_folders_are_found() {
        let opml = r#"<?xml version="1.0"?><opml version="1.0"><head><title>Subs</title></head><body>
            <outline text="Tech" title="Tech">
              <outline type="rss" text="Julia Evans" title="Julia Evans" xmlUrl="https://jvns.ca/atom.xml" htmlUrl="https://jvns.ca"/>
              <outline type="rss" text="Dan &amp; Co" xmlUrl="https://dan.example.com/feed?x=1&amp;y=2"/>
            </outline>
            <outline text="no feed here"/></body></opml>"#;
        assert_eq!(
            parse_opml(opml).unwrap(),
            [
                OpmlEntry {
                    title: "Julia Evans".into(),
                    xml_url: "https://jvns.ca/atom.xml".into()
                },
                OpmlEntry {
                    title: "Dan & Co".into(),
                    xml_url: "https://dan.example.com/feed?x=1&y=2".into()
                },
            ]
        );
        assert!(parse_opml("<rss/>")
            .unwrap_err()
            .contains("not an OPML document"));
        assert!(
            parse_opml("<opml><body><outline").is_err()
                || parse_opml("<opml><body><outline").unwrap().is_empty()
        );
    }

    #[test]
    fn ids_are_slugs_and_unique() {
        assert_eq!(
            slug("Julia Evans' Blog!", "https://jvns.ca/atom.xml"),
            "julia-evans-blog"
        );
        assert_eq!(slug("日本語", "https://example.jp/feed"), "example-jp");
        assert_eq!(
            unique_id("blog", &["blog".into(), "blog-2".into()]),
            "blog-3"
        );
        let text = append_sources(
            "# mine\n",
            &[NewSource {
                id: "a".into(),
                name: "Say \"hi\"".into(),
                url: "https://a.org/f".into(),
            }],
            "subs.opml",
        );
        assert!(text.starts_with("# mine\n\n# Imported from subs.opml\n\n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"https://a.org/f\"\nname = 'Say \"hi\"'\n"), "{text}");
    }
}
