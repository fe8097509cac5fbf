//! A cheap look at how deep `[` and `{` nest before the YAML parser sees the text: the parser
//! takes time that grows with the square of that depth, so a hostile or broken document could
//! keep `validate` busy for minutes before it reports the recursion limit.

/// Deepest flow nesting a document may have (the YAML reader refuses more anyway).
pub const MAX_FLOW_DEPTH: usize = 128;

/// The 1-based line and column where flow nesting first goes deeper than [`MAX_FLOW_DEPTH`].
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let (mut line, mut column) = (1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut previous = '\n';
    let mut comment = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
            comment = false;
            previous = c;
            continue;
        }
        if comment {
            continue;
        }
        match quote {
            Some('\'') if c == '\'' => {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    column += 1;
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
                column += 1;
            }
            Some('"') if c == '"' => quote = None,
            Some(_) => {}
            None => match c {
                '#' if previous.is_whitespace() => comment = true,
                '\'' | '"' if depth > 0 || matches!(previous, ' ' | ':' | '\n' | '-') => {
                    quote = Some(c)
                }
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some((line, column));
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        previous = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_where_it_starts() {
        let text = format!("a: 1\nb: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(too_deep(&text), Some((2, 4 + MAX_FLOW_DEPTH)));
        assert_eq!(too_deep("a: [[1], {b: [2]}]\nc: '[[[['\n# [[[[\n"), None);
    }
}
