//! Cutting text to a column width on whole characters, so CJK and emoji never split.

use unicode_width::UnicodeWidthChar;

/// The longest prefix of `s` that fits in `width` columns, with `…` when something was cut.
pub fn fit(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A duration as people read it on a run clock: `35ms`, `4.2s`, `1m05s`.
pub fn duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if d < std::time::Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_whole_characters() {
        assert_eq!(fit("数据库故障", 5), "数据…");
        assert_eq!(fit("ab🔥cd", 4), "ab…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("数据", 1), "…");
    }

    #[test]
    fn durations_read_naturally() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_millis(4200)), "4.2s");
        assert_eq!(duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(duration(Duration::from_millis(35)), "35ms");
    }
}
