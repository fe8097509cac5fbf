//! A scan of YAML text for plain (unquoted) scalars and tags, with their line and column.
//!
//! serde_yaml does not tell where a value was written, nor whether it was quoted; this scan
//! does, so that the loader can point at the exact line where Chaos Toolkit's YAML 1.1 reading
//! differs from ours, and at the line of a refused tag.

/// A plain (unquoted) scalar as written in the text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scalar {
    pub line: usize,
    pub column: usize,
    pub text: String,
    /// Plain scalars folded over several lines are always text in both readings.
    pub multi_line: bool,
    /// A tag in front (`!!str on`) fixes the type for both readers.
    pub tagged: bool,
}

/// A tag (`!!str`, `!custom`, `!!python/object:…`) as written in the text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tag {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

/// Plain scalars and tags found in a YAML text.
#[derive(Debug, Default)]
pub(super) struct Scan {
    pub scalars: Vec<Scalar>,
    pub tags: Vec<Tag>,
}

const FLOW_INDICATORS: &str = ",[]{}";

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Scans a YAML text, line by line, for plain scalars (keys and values) and tags. It skips
/// comments, quoted scalars (also over several lines), block scalars (`|`, `>`), anchors,
/// aliases and directives. It is a scan, not a parser: it runs after serde_yaml accepted the
/// text, so it may assume the text is well formed.
pub(super) fn scan(text: &str) -> Scan {
    let mut scanner = Scanner::default();
    for (index, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.trim_end_matches('\r').chars().collect();
        scanner.line(index + 1, &chars);
    }
    scanner.out
}

#[derive(Default)]
struct Scanner {
    out: Scan,
    flow_depth: usize,
    /// The quote character of a quoted scalar still open at the end of the previous line.
    open_quote: Option<char>,
    /// Inside a block scalar whose parent node sits at this column (-1: document level).
    block_scalar_parent: Option<isize>,
    /// A block-context plain scalar that ended its line: it continues on more indented lines.
    pending_plain: Option<(usize, isize)>,
    /// A flow-context plain scalar that ended its line.
    pending_flow_plain: Option<usize>,
}

impl Scanner {
    fn line(&mut self, line_no: usize, chars: &[char]) {
        let indent = chars.iter().take_while(|c| **c == ' ').count();
        let blank = chars[indent..].iter().all(|c| c.is_whitespace());
        let marker = is_document_marker(chars);
        if marker {
            *self = Scanner {
                out: std::mem::take(&mut self.out),
                ..Scanner::default()
            };
        }
        if let Some(parent) = self.block_scalar_parent {
            if blank || indent as isize > parent {
                return;
            }
            self.block_scalar_parent = None;
        }
        let mut pos = if marker { 3 } else { 0 };
        if let Some(quote) = self.open_quote {
            match quote_end(chars, 0, quote) {
                Some(end) => {
                    self.open_quote = None;
                    pos = end + 1;
                }
                None => return,
            }
        }
        if let Some((index, parent)) = self.pending_plain {
            if blank {
                return;
            }
            self.pending_plain = None;
            if chars[indent] != '#' && indent as isize > parent {
                self.out.scalars[index].multi_line = true;
                self.pending_plain = Some((index, parent));
                return;
            }
        }
        if self.flow_depth == 0 && chars.first() == Some(&'%') {
            return; // a directive
        }
        let parent = if marker { -1 } else { indent as isize };
        self.tokens(line_no, chars, pos, parent);
    }

    fn tokens(&mut self, line_no: usize, chars: &[char], mut i: usize, mut parent: isize) {
        let n = chars.len();
        if let Some(index) = self.pending_flow_plain.take() {
            while i < n && is_blank(chars[i]) {
                i += 1;
            }
            if i < n && starts_plain(chars, i, true) {
                self.out.scalars[index].multi_line = true;
                let (end, _) = plain_end(chars, i, true);
                if end >= n {
                    self.pending_flow_plain = Some(index);
                }
                i = end;
            }
        }
        // After a quoted scalar or a closing bracket, `:` right behind it is a value indicator.
        let mut after_json_node = false;
        // A scalar right after a tag has its type written out: both readings agree.
        let mut tagged = false;
        while i < n {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            let next_blank = next.is_none_or(is_blank);
            let in_flow = self.flow_depth > 0;
            let next_flow = next.is_some_and(|x| FLOW_INDICATORS.contains(x));
            match c {
                ' ' | '\t' => i += 1,
                '#' => return,
                '-' | '?' if next_blank => {
                    parent = i as isize;
                    i += 1;
                }
                ':' if next_blank || (in_flow && next_flow) || after_json_node => {
                    after_json_node = false;
                    i += 1;
                }
                '[' | '{' => {
                    self.flow_depth += 1;
                    i += 1;
                }
                ']' | '}' => {
                    self.flow_depth = self.flow_depth.saturating_sub(1);
                    after_json_node = true;
                    i += 1;
                }
                ',' if in_flow => i += 1,
                '\'' | '"' => match quote_end(chars, i + 1, c) {
                    Some(end) => {
                        if is_key_after(chars, end + 1, in_flow, true) {
                            parent = i as isize;
                        }
                        after_json_node = true;
                        i = end + 1;
                    }
                    None => {
                        self.open_quote = Some(c);
                        return;
                    }
                },
                '&' | '*' => i = token_end(chars, i, in_flow),
                '!' => {
                    let end = tag_end(chars, i, in_flow);
                    self.out.tags.push(Tag {
                        line: line_no,
                        column: i + 1,
                        text: chars[i..end].iter().collect(),
                    });
                    tagged = true;
                    i = end;
                }
                '|' | '>' if !in_flow => {
                    self.block_scalar_parent = Some(parent);
                    return;
                }
                _ => {
                    after_json_node = false;
                    let (end, stop) = plain_end(chars, i, in_flow);
                    let text: String = chars[i..end].iter().collect();
                    let is_key = stop < n && chars[stop] == ':';
                    if is_key {
                        parent = i as isize;
                    }
                    let index = self.out.scalars.len();
                    self.out.scalars.push(Scalar {
                        line: line_no,
                        column: i + 1,
                        text,
                        multi_line: false,
                        tagged,
                    });
                    tagged = false;
                    if stop >= n && !is_key {
                        if in_flow {
                            self.pending_flow_plain = Some(index);
                        } else {
                            self.pending_plain = Some((index, parent));
                        }
                    }
                    // A plain scalar always advances at least one character.
                    i = stop.max(i + 1);
                }
            }
        }
    }
}

fn is_document_marker(chars: &[char]) -> bool {
    let head: String = chars.iter().take(3).collect();
    (head == "---" || head == "...") && chars.get(3).is_none_or(|c| is_blank(*c))
}

/// Whether a plain scalar may start at `i` (in flow context the flow indicators end it).
fn starts_plain(chars: &[char], i: usize, in_flow: bool) -> bool {
    let c = chars[i];
    let next_blank = chars.get(i + 1).is_none_or(|x| is_blank(*x));
    if "#'\"&*!|>%@`".contains(c) || (in_flow && FLOW_INDICATORS.contains(c)) {
        return false;
    }
    !("-?:".contains(c) && next_blank)
}

/// The end of a plain scalar starting at `start`: (end of its text without trailing blanks,
/// index of what stopped it — `:` of a key, a comment, a flow indicator, or the line's end).
fn plain_end(chars: &[char], start: usize, in_flow: bool) -> (usize, usize) {
    let n = chars.len();
    let mut j = start;
    while j < n {
        let c = chars[j];
        let next = chars.get(j + 1).copied();
        if c == ':'
            && (next.is_none_or(is_blank)
                || (in_flow && next.is_some_and(|x| FLOW_INDICATORS.contains(x))))
        {
            break;
        }
        if c == '#' && j > start && is_blank(chars[j - 1]) {
            break;
        }
        if in_flow && FLOW_INDICATORS.contains(c) {
            break;
        }
        j += 1;
    }
    let mut end = j;
    while end > start && is_blank(chars[end - 1]) {
        end -= 1;
    }
    (end, j)
}

/// The index of the closing quote of a quoted scalar whose text starts at `from`.
fn quote_end(chars: &[char], from: usize, quote: char) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        let c = chars[j];
        if quote == '"' && c == '\\' {
            j += 2;
            continue;
        }
        if c == quote {
            if quote == '\'' && chars.get(j + 1) == Some(&'\'') {
                j += 2;
                continue;
            }
            return Some(j);
        }
        j += 1;
    }
    None
}

/// Whether a `:` value indicator follows (after blanks) at `from`.
fn is_key_after(chars: &[char], from: usize, in_flow: bool, adjacent_ok: bool) -> bool {
    let mut j = from;
    while j < chars.len() && is_blank(chars[j]) {
        j += 1;
    }
    if chars.get(j) != Some(&':') {
        return false;
    }
    let next = chars.get(j + 1).copied();
    next.is_none_or(is_blank)
        || (in_flow && next.is_some_and(|x| FLOW_INDICATORS.contains(x)))
        || (adjacent_ok && j == from)
}

/// The end of an anchor or alias token.
fn token_end(chars: &[char], start: usize, in_flow: bool) -> usize {
    let mut j = start + 1;
    while j < chars.len() && !is_blank(chars[j]) && !(in_flow && FLOW_INDICATORS.contains(chars[j]))
    {
        j += 1;
    }
    j
}

/// The end of a tag: `!<verbatim>` runs to `>`, other tags to a blank (or flow indicator).
fn tag_end(chars: &[char], start: usize, in_flow: bool) -> usize {
    if chars.get(start + 1) == Some(&'<') {
        let close = chars[start..].iter().position(|c| *c == '>');
        return close.map_or(chars.len(), |p| start + p + 1);
    }
    token_end(chars, start, in_flow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Vec<(usize, usize, String)> {
        scan(text)
            .scalars
            .into_iter()
            .filter(|s| !s.multi_line && !s.tagged)
            .map(|s| (s.line, s.column, s.text))
            .collect()
    }

    fn texts(text: &str) -> Vec<String> {
        plain(text).into_iter().map(|(_, _, t)| t).collect()
    }

    #[test]
    fn finds_keys_and_values_with_positions() {
        let found = plain("title: x\nmethod:\n  - name: a # c\n    path: /bin/x\n");
        assert_eq!(
            found,
            vec![
                (1, 1, "title".to_string()),
                (1, 8, "x".to_string()),
                (2, 1, "method".to_string()),
                (3, 5, "name".to_string()),
                (3, 11, "a".to_string()),
                (4, 5, "path".to_string()),
                (4, 11, "/bin/x".to_string()),
            ]
        );
    }

    #[test]
    fn skips_quotes_comments_and_block_scalars() {
        let text = "a: 'on' # yes\nb: \"no\"\nc: |\n  on\n  yes\nd: >-\n\n  off\ne: it's\nf: 'multi\n  on line'\ng: x#y\n";
        assert_eq!(
            texts(text),
            vec!["a", "b", "c", "d", "e", "it's", "f", "g", "x#y"]
        );
    }

    #[test]
    fn multi_line_plain_scalars_are_not_checked() {
        let text = "description: first\n  on\n\n  yes\nnext: on\n";
        assert_eq!(texts(text), vec!["description", "next", "on"]);
        let scan = scan(text);
        assert!(scan.scalars[1].multi_line);
    }

    #[test]
    fn flow_collections() {
        let text = "args: [on, 'x', \"y\", 0755, {k: off}]\nnext: [a,\n  b c]\n";
        assert_eq!(
            texts(text),
            vec!["args", "on", "0755", "k", "off", "next", "a", "b c"]
        );
    }

    #[test]
    fn anchors_aliases_and_tags() {
        let text =
            "base: &b {x: 1}\nother:\n  <<: *b\n  y: !!str on\nz: !!python/object:os.system {}\n";
        let s = scan(text);
        let t: Vec<&str> = s.scalars.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(t, vec!["base", "x", "1", "other", "<<", "y", "on", "z"]);
        assert!(s.scalars[6].tagged && !s.scalars[5].tagged);
        let tags: Vec<(usize, usize, &str)> = s
            .tags
            .iter()
            .map(|t| (t.line, t.column, t.text.as_str()))
            .collect();
        assert_eq!(
            tags,
            vec![(4, 6, "!!str"), (5, 4, "!!python/object:os.system")]
        );
    }

    #[test]
    fn sequences_of_sequences_and_document_markers() {
        let text = "%YAML 1.1\n---\n- - yes\n  - 'a'\n- key: |\n    on\n  k2: 1:30\n...\n";
        assert_eq!(texts(text), vec!["yes", "key", "k2", "1:30"]);
    }

    #[test]
    fn scanning_odd_text_never_panics() {
        for text in [
            "",
            ":",
            "- ",
            "'",
            "\"\\",
            "[",
            "]]]",
            "{a: [b, {c: 'd",
            "a: |",
            "? x\n: y",
            "!<x",
            "&",
            "*",
            "a: \"x\\",
            "#",
            "---",
            "...",
            "- -",
            "key: ':'",
            "\u{feff}a: b",
        ] {
            let _ = scan(text);
        }
    }
}
