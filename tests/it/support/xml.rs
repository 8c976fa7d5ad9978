//! Reading rendered feeds: a strict well-formedness check (quick-xml, end names checked) and
//! plain string extraction of titles and elements.

pub fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed XML at byte {}: {e}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "unclosed elements in:\n{xml}");
}

/// Titles of the items of an RSS document, in order.
pub fn rss_titles(xml: &str) -> Vec<String> {
    xml.split("<item>")
        .skip(1)
        .filter_map(|item| {
            Some(
                item.split_once("<title>")?
                    .1
                    .split_once("</title>")?
                    .0
                    .to_string(),
            )
        })
        .collect()
}

/// Text of every `<tag>...</tag>` in `xml`, in order.
pub fn all_elements(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| {
            let body = rest.split_once('>')?.1;
            Some(body.split_once(&close)?.0.to_string())
        })
        .collect()
}
