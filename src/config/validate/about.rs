//! Validation of `[topic.about]` (the semantic rule) and of `[defaults] model_dir`. The
//! phrases get their embeddings later, when the config is made live (`topics::semantic`).

use super::Checker;
use crate::config::raw::{RawAbout, RawNumber};
use crate::select::about::{AboutPhrase, AboutRule, DEFAULT_THRESHOLD, DEFAULT_UNLIKE_MARGIN};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The rule before its default weight is known (it is the topic's `min_relevance`).
pub(super) struct ValidAbout {
    phrases: Vec<AboutPhrase>,
    threshold: f32,
    weight: Option<f64>,
    unlike_margin: f32,
}

impl ValidAbout {
    pub(super) fn into_rule(self, min_relevance: f64) -> AboutRule {
        AboutRule {
            phrases: self.phrases,
            threshold: self.threshold,
            weight: self.weight.unwrap_or(min_relevance),
            unlike_margin: self.unlike_margin,
        }
    }
}

pub(super) fn validate_about(c: &mut Checker, a: &Spanned<RawAbout>, key: &str) -> ValidAbout {
    let raw = a.get_ref();
    let mut phrases = Vec::new();
    for (list, name) in [
        (&raw.phrases, "phrases"),
        (&raw.examples, "examples"),
        (&raw.unlike, "unlike"),
    ] {
        for p in list.iter().flat_map(|l| l.get_ref()) {
            let text = p.get_ref().trim();
            if text.is_empty() {
                c.error(p.span(), format!("{key}.{name}"), "must not be empty");
                continue;
            }
            let is_url =
                name == "examples" && (text.starts_with("http://") || text.starts_with("https://"));
            phrases.push(AboutPhrase {
                text: text.to_string(),
                is_url,
                unlike: name == "unlike",
                vector: None,
            });
        }
    }
    if phrases.iter().all(|p| p.unlike) {
        c.error(
            a.span(),
            key,
            "needs at least one of `phrases` or `examples`",
        );
    }
    let threshold =
        similarity(c, &raw.threshold, &format!("{key}.threshold")).unwrap_or(DEFAULT_THRESHOLD);
    let unlike_margin = similarity(c, &raw.unlike_margin, &format!("{key}.unlike_margin"))
        .unwrap_or(DEFAULT_UNLIKE_MARGIN);
    let weight = raw
        .weight
        .as_ref()
        .and_then(|v| c.non_negative(v, &format!("{key}.weight")));
    ValidAbout {
        phrases,
        threshold,
        weight,
        unlike_margin,
    }
}

/// A cosine similarity (or a difference of two): between -1 and 1.
fn similarity(c: &mut Checker, v: &Option<Spanned<RawNumber>>, key: &str) -> Option<f32> {
    let v = v.as_ref()?;
    let n = v.get_ref().as_f64();
    if (-1.0..=1.0).contains(&n) {
        Some(n as f32)
    } else {
        c.error(
            v.span(),
            key,
            format!("{n} must be a cosine similarity between -1 and 1"),
        );
        None
    }
}

/// `model_dir`, relative to the config file's directory; `None` when unset.
pub(super) fn model_dir(
    c: &mut Checker,
    v: &Option<Spanned<String>>,
    config_dir: &Path,
) -> Option<PathBuf> {
    let v = v.as_ref()?;
    if v.get_ref().trim().is_empty() {
        c.error(v.span(), "defaults.model_dir", "must not be empty");
        return None;
    }
    Some(config_dir.join(v.get_ref()))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(about: &str) -> Result<Config, String> {
        let text = format!(
            "[defaults]\nmodel_dir = \"models/minilm\"\n\n[[topic]]\nslug = \"ds\"\ntitle = \"DS\"\n[topic.about]\n{about}"
        );
        Config::parse(Path::new("/etc/feedsift/feeds.toml"), &text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_of_about_and_model_dir() {
        let c = parse("phrases = [\"consensus algorithms\"]\nexamples = [\"A title\", \"https://example.org/p\"]\n").unwrap();
        let rules = &c.topics[0].rules;
        let about = rules.about.as_ref().unwrap();
        assert_eq!(
            rules.min_relevance, 1.0,
            "about alone makes min_relevance 1"
        );
        assert_eq!(about.weight, 1.0, "weight defaults to min_relevance");
        assert_eq!(about.threshold, 0.40);
        let urls: Vec<bool> = about.phrases.iter().map(|p| p.is_url).collect();
        assert_eq!(urls, [false, false, true]);
        assert!(
            !about.is_active(),
            "no embeddings until the config is made live"
        );
        assert_eq!(
            c.defaults.model_dir.as_deref(),
            Some(Path::new("/etc/feedsift/models/minilm"))
        );
        assert_eq!(
            c.model_dir().as_deref(),
            Some(Path::new("/etc/feedsift/models/minilm"))
        );
        assert!(c.uses_about());
        assert!(
            crate::config::warnings(&c).is_empty(),
            "similarity can admit stories"
        );
        let c = parse("phrases = [\"x\"]\nthreshold = 0.55\nweight = 3\n").unwrap();
        let about = c.topics[0].rules.about.as_ref().unwrap();
        assert_eq!((about.threshold, about.weight), (0.55, 3.0));
    }

    #[test]
    fn bad_about_values_are_reported() {
        let e = parse("threshold = 1.5\nweight = -1\nphrase = []\n").unwrap_err();
        assert!(
            e.contains("unknown key `phrase`, did you mean `phrases`?"),
            "{e}"
        );
        assert!(
            e.contains("1.5 must be a cosine similarity between -1 and 1"),
            "{e}"
        );
        assert!(e.contains("-1 must be a number of at least 0"), "{e}");
        assert!(
            e.contains("needs at least one of `phrases` or `examples`"),
            "{e}"
        );
        let e = parse("phrases = [\" \"]\n").unwrap_err();
        assert!(e.contains("topic[0].about.phrases"), "{e}");
    }

    #[test]
    fn unlike_phrases_need_topic_phrases_beside_them() {
        let c =
            parse("phrases = [\"consensus\"]\nunlike = [\"home networks\"]\nunlike_margin = 0.1\n")
                .unwrap();
        let about = c.topics[0].rules.about.as_ref().unwrap();
        let kinds: Vec<(&str, bool)> = about
            .phrases
            .iter()
            .map(|p| (p.text.as_str(), p.unlike))
            .collect();
        assert_eq!(kinds, [("consensus", false), ("home networks", true)]);
        assert_eq!(about.unlike_margin, 0.1);
        assert_eq!(
            parse("phrases = [\"x\"]\n").unwrap().topics[0]
                .rules
                .about
                .as_ref()
                .unwrap()
                .unlike_margin,
            0.05
        );
        let e = parse("unlike = [\"home networks\"]\nunlike_margin = 3\n").unwrap_err();
        assert!(
            e.contains("needs at least one of `phrases` or `examples`"),
            "{e}"
        );
        assert!(
            e.contains("unlike_margin`: 3 must be a cosine similarity between -1 and 1"),
            "{e}"
        );
        let e = parse("phrases = [\"x\"]\nunlike = \"home\"\n").unwrap_err();
        assert!(e.contains("feeds.toml:9:10"), "{e}");
    }
}
