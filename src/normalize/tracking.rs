//! Policy tables for URL clean-up: query parameters that only track the click, and the
//! values of `ref`/`source`-like parameters that merely name the linking site.

/// Parameters removed wherever they appear (compared case-insensitively).
pub(crate) const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "igshid",
    "igsh",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "s_cid",
    "vero_conv",
    "vero_id",
    "wickedid",
    "_openstat",
    "ncid",
    "cmpid",
    "sr_share",
    "share_id",
    "spm",
    "si",
    "trk",
    "trkcampaign",
    "ss_source",
    "ss_campaign_id",
    "_ga",
    "_gl",
    "mbid",
    "soc_src",
    "soc_trk",
];

/// Prefixes of parameter names removed wherever they appear.
pub(crate) const TRACKING_PREFIXES: &[&str] = &["utm_", "mtm_", "pk_", "matomo_", "piwik_", "hmb_"];

/// Parameters removed only when their value names the site that linked to the article.
pub(crate) const REFERRER_PARAMS: &[&str] =
    &["ref", "ref_src", "source", "via", "from", "referrer"];

/// Values of referrer parameters that name an aggregator or feed reader.
pub(crate) const REFERRER_VALUES: &[&str] = &[
    "hn",
    "hackernews",
    "hacker-news",
    "hacker_news",
    "news.ycombinator.com",
    "ycombinator",
    "reddit",
    "reddit.com",
    "lobsters",
    "lobste.rs",
    "devto",
    "dev.to",
    "dev",
    "rss",
    "feed",
    "feedly",
    "twitter",
    "x",
    "t.co",
    "facebook",
    "linkedin",
    "mastodon",
    "newsletter",
    "producthunt",
    "hashnode",
    "medium",
    "feedsift",
];

/// Host prefixes that point at the same site as the bare host.
pub(crate) const HOST_PREFIXES: &[&str] = &["www.", "m.", "amp.", "mobile."];
