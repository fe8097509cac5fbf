//! The experiment document: loading (YAML or JSON, from a file or a URL), validation, the
//! configuration and secrets it declares, `${name}` substitution and the `expect` dialect.

pub mod config;
pub mod expect;
pub mod load;
pub mod pathlookup;
pub mod substitute;
pub mod validate;

use std::fmt;

/// Where in a document a finding applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column in the source text.
    Text { line: usize, column: usize },
    /// An activity path such as `method[2].provider.url` (indices from 0); empty for the whole
    /// document.
    Path(String),
}

/// One finding about a document, error or warning, naming its source and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: String,
    pub location: Location,
    pub message: String,
}

impl Diagnostic {
    pub fn at_path(source: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            source: source.to_string(),
            location: Location::Path(path.into()),
            message: message.into(),
        }
    }

    pub fn at_text(source: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            source: source.to_string(),
            location: Location::Text { line, column },
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Text { line, column } => {
                write!(f, "{}:{}:{}: {}", self.source, line, column, self.message)
            }
            Location::Path(p) if p.is_empty() => write!(f, "{}: {}", self.source, self.message),
            Location::Path(p) => write!(f, "{}: {}: {}", self.source, p, self.message),
        }
    }
}
