//! Load and resolve errors, rendered like rustc's: message, location, source line, caret, hint.

use std::fmt;
use std::path::{Path, PathBuf};

use super::spans::Pos;

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
    /// The text of the offending line, for the code frame.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(file: &Path, src: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self::at(file, src, pos, message).clamp(src)
    }

    fn at(file: &Path, src: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            hint: None,
            source_line: src
                .lines()
                .nth(pos.line.saturating_sub(1))
                .map(str::to_string),
        }
    }

    /// For a position past the end (an unexpected end of file), point at the last line.
    fn clamp(mut self, src: &str) -> Self {
        let lines = src.lines().count();
        if self.source_line.is_none() && lines > 0 && self.pos.line > lines {
            let last = src.lines().last().unwrap_or("");
            self.pos = Pos {
                line: lines,
                col: last.chars().count() + 1,
            };
            self.source_line = Some(last.to_string());
        }
        self
    }

    pub(crate) fn hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(
            f,
            "  --> {}:{}:{}",
            self.file.display(),
            self.pos.line,
            self.pos.col
        )?;
        if let Some(line) = &self.source_line {
            let gutter = self.pos.line.to_string().len();
            let pad = " ".repeat(gutter);
            let caret_at: String = line
                .chars()
                .take(self.pos.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{} | {line}\n{pad} | {caret_at}^",
                self.pos.line
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {h}")?;
        }
        Ok(())
    }
}

/// Every problem found in one file. Loading stops at the first syntax or shape error;
/// resolving collects all it finds.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The closest candidate to `wrong`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(wrong, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
