//! Regular expressions as Python's `re` reads them, for regex tolerances and `expect` patterns:
//! look-around and back-references work, `\Z` is the end of the text, and `$` also matches
//! before a final newline.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct PyRegex(fancy_regex::Regex);

impl PyRegex {
    /// Compiles a pattern; the error says why it cannot be, in a sentence.
    pub fn new(pattern: &str) -> Result<PyRegex, String> {
        let translated = pattern.replace(r"\Z", r"\z");
        fancy_regex::Regex::new(&translated)
            .map(PyRegex)
            .map_err(|e| format!("pattern '{pattern}' is not a valid regular expression: {e}"))
    }

    /// `re.search`: whether the pattern is found anywhere in `text`.
    pub fn search(&self, text: &str) -> Result<bool, String> {
        let hit = |t: &str| {
            self.0
                .is_match(t)
                .map_err(|e| format!("pattern could not be applied: {e}"))
        };
        if hit(text)? {
            return Ok(true);
        }
        match text.strip_suffix('\n') {
            Some(t) => hit(t),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_syntax_compiles_and_searches() {
        assert!(PyRegex::new(r"ok(?= now)")
            .unwrap()
            .search("ok now")
            .unwrap());
        assert!(!PyRegex::new(r"(?<!not )ready")
            .unwrap()
            .search("not ready")
            .unwrap());
        assert!(PyRegex::new(r"(a)\1").unwrap().search("xaa").unwrap());
        assert!(PyRegex::new(r"done\Z").unwrap().search("all done").unwrap());
        assert!(PyRegex::new(r"^ok$").unwrap().search("ok\n").unwrap());
        assert!(PyRegex::new(r"(").is_err());
    }
}
