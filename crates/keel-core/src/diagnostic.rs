//! Errors that point into a file: path, line, column and a caret snippet.
//!
//! Used for `keel.toml` errors and for bad lines in reports. Only formatting lives here;
//! deciding what is wrong is the caller's job.

use std::fmt;

/// A message tied to a place in a text file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong, without a trailing period.
    pub message: String,
    /// The offending source line, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic for byte `offset` of `text` (clamped to the text).
    pub fn at_offset(path: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = text[..offset].matches('\n').count() + 1;
        let column = text[line_start..offset].chars().count() + 1;
        Diagnostic {
            path: path.to_owned(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            message: message.into(),
            source_line: Some(text[line_start..line_end].trim_end_matches('\r').to_owned()),
        }
    }

    /// A diagnostic at a known line and column (1-based, the column in characters), when the
    /// text itself is no longer at hand.
    pub fn at(path: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_owned(),
            line,
            column,
            message: message.into(),
            source_line: None,
        }
    }

    /// A diagnostic for a whole line, when no column is known.
    pub fn at_line(path: &str, line: u64, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_owned(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
            message: message.into(),
            source_line: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:column: message`, then the line and a caret under the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )?;
        if let Some(src) = &self.source_line {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_pad: String = src
                .chars()
                .take(self.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad} |\n{gutter} | {src}\n{pad} | {caret_pad}^")?;
        }
        Ok(())
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column_with_a_caret() {
        let text = "[coverage]\nmin_total = \"abc\"\n";
        let d = Diagnostic::at_offset(".github/keel.toml", text, 23, "expected a percentage");
        assert_eq!((d.line, d.column), (2, 13));
        assert_eq!(
            d.to_string(),
            ".github/keel.toml:2:13: expected a percentage\n  |\n2 | min_total = \"abc\"\n  |             ^"
        );
    }

    #[test]
    fn offsets_inside_multibyte_characters_do_not_panic() {
        let text = "a = \"é\"";
        let d = Diagnostic::at_offset("f", text, 6, "x");
        assert_eq!(d.line, 1);
        assert_eq!(d.column, 6);
    }
}
