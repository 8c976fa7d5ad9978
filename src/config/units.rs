//! Human units in feeds.toml: durations ("15m", "1h30m", "30d") and byte sizes ("15MiB").

use std::time::Duration;

/// Parses a duration made of `<number><unit>` parts, units s, m, h, d, w.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration (expected e.g. 15m, 12h, 30d)".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(format!("invalid duration {text:?}: unknown unit {c:?} (expected s, m, h, d or w, e.g. 15m, 30d)")),
        };
        let n: u64 = digits.parse().map_err(|_| {
            format!("invalid duration {text:?}: a number must come before {c:?} (e.g. 15m, 30d)")
        })?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("invalid duration {text:?}: {digits} has no unit (expected e.g. {digits}s or {digits}m)"));
    }
    Ok(Duration::from_secs(total))
}

/// Parses a byte size: a plain number of bytes or a number with B, KB, KiB, MB, MiB, GB, GiB.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?} (expected e.g. 15MiB or 500KB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        other => return Err(format!("invalid size {text:?}: unknown unit {other:?} (expected B, KiB, MiB, GiB, KB, MB or GB)")),
    };
    Ok(n.saturating_mul(factor))
}

/// Renders a byte size the way feeds.toml writes it, in the largest binary unit that divides
/// it ("256MiB", "1KiB", "1500B").
pub(crate) fn format_size(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// Renders a duration the way feeds.toml writes it, largest unit first ("1h30m").
pub(crate) fn format_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// A duration for people: "30 days", "12 hours", "1 hour 30 minutes".
pub(crate) fn human_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0 seconds".into();
    }
    let mut parts = Vec::new();
    for (unit, size) in [
        ("day", 86_400),
        ("hour", 3600),
        ("minute", 60),
        ("second", 1),
    ] {
        if secs >= size {
            let n = secs / size;
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
            secs %= size;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("30x")
            .unwrap_err()
            .contains("unknown unit 'x'"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(human_duration(Duration::from_secs(30 * 86_400)), "30 days");
        assert_eq!(
            human_duration(Duration::from_secs(5400)),
            "1 hour 30 minutes"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("15MiB"), Ok(15 * 1024 * 1024));
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("ten MiB").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert_eq!(format_size(256 * 1024 * 1024), "256MiB");
        assert_eq!(format_size(1024), "1KiB");
        assert_eq!(format_size(1500), "1500B");
    }
}
