//! Values from outside (names, paths, labels) quoted in Keel's own sentences.

/// `value` as a code span for an explanation; backticks inside become `'` so that text from a
/// pull request (titles, branch and file names) cannot close the span.
pub(crate) fn code(value: &str) -> String {
    format!("`{}`", value.replace('`', "'"))
}
