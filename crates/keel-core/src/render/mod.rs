//! Everything a person reads: markdown for GitHub, text for terminals, JSON for machines.
//!
//! Rendering only formats an [`Evaluation`](crate::evaluation::Evaluation); it decides nothing.

pub mod comment;
pub mod dod;
pub mod escape;
pub mod json;
pub mod markdown;
pub mod plain;
pub mod summary;
pub mod text;

/// GitHub's limit for check run `output.summary`/`output.text` (characters).
pub const CHECK_RUN_TEXT_LIMIT: usize = 65_535;
/// GitHub's limit for an issue or pull request comment body (characters).
pub const COMMENT_LIMIT: usize = 65_536;

/// Cuts `text` at a line boundary so that, with `note` appended, it has at most `limit`
/// characters. Text already within the limit is returned unchanged.
pub fn trim_to(text: String, limit: usize, note: &str) -> String {
    if text.chars().count() <= limit {
        return text;
    }
    let budget = limit.saturating_sub(note.chars().count() + 2);
    let cut = text
        .char_indices()
        .nth(budget)
        .map_or(text.len(), |(i, _)| i);
    let cut = text[..cut].rfind('\n').unwrap_or(cut);
    let mut out = text[..cut].to_owned();
    out.push_str("\n\n");
    out.push_str(note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_the_limit_and_ends_with_the_note() {
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let out = trim_to(text, 500, "_trimmed_");
        assert!(out.chars().count() <= 500);
        assert!(out.ends_with("_trimmed_"));
        assert!(out.contains("line 0\n"));
    }

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(trim_to("abc".into(), 10, "x"), "abc");
    }
}
