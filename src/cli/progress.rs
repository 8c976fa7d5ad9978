//! The progress line `fetch --once` draws on a terminal: sources done out of all, a bar,
//! and the sources being fetched right now. Only the text; the caller decides where it goes.

/// What is done and what is in flight.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub total: usize,
    pub done: usize,
    pub current: Vec<String>,
}

const BAR_WIDTH: usize = 24;

impl Progress {
    pub(super) fn started(&mut self, source: &str) {
        self.current.push(source.to_string());
    }

    pub(super) fn finished(&mut self, source: &str) {
        self.done += 1;
        self.current.retain(|s| s != source);
    }

    /// `[#########...............] 9/24 fetching hn, lobsters`, at most `width` characters.
    pub(super) fn line(&self, width: usize) -> String {
        let filled = BAR_WIDTH * self.done / self.total.max(1);
        let bar = format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled));
        let mut line = format!("{bar} {}/{}", self.done, self.total);
        if !self.current.is_empty() {
            line.push_str(&format!(" fetching {}", self.current.join(", ")));
        }
        if line.chars().count() > width {
            line = line
                .chars()
                .take(width.saturating_sub(1))
                .collect::<String>()
                + "…";
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_tracks_done_and_current() {
        let mut p = Progress {
            total: 4,
            ..Progress::default()
        };
        p.started("hn");
        p.started("lobsters");
        assert_eq!(
            p.line(80),
            "[........................] 0/4 fetching hn, lobsters"
        );
        p.finished("hn");
        assert_eq!(
            p.line(80),
            "[######..................] 1/4 fetching lobsters"
        );
        assert_eq!(p.line(20).chars().count(), 20);
    }
}
