//! Making text safe to put in GitHub markdown.
//!
//! Text from outside (titles, branch names, tool messages, file paths) must not format, ping
//! people or open HTML. Three tools: [`text`] backslash-escapes markdown punctuation, [`code`]
//! puts text in a code span whose fence is longer than any backtick run inside, and [`fenced`]
//! puts multi-line text in a fenced code block the same way. The first two also keep a table
//! intact (no `|`, no newline) and break `@mentions`. [`sentence`] is for Keel's own sentences
//! with names in code spans; it finds the spans as CommonMark does.

/// The shortest fence CommonMark accepts for a fenced code block.
const MIN_FENCE: usize = 3;

/// Escapes markdown and HTML in plain text, for use inside a table cell or a sentence.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '>' | '<' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span holding `s` literally (newlines become spaces; `|` is escaped for tables).
pub fn code(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let flat = flat.replace('|', "\\|");
    let fence = "`".repeat(longest_backtick_run(&flat) + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') || flat.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// A fenced code block holding multi-line `s` literally: the fence is a backtick run longer
/// than any inside `s` (and at least three), so no line of `s` can close it. One trailing line
/// ending of `s` is dropped; the block ends with its closing fence, without a line ending.
pub fn fenced(s: &str) -> String {
    let body = s
        .strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .or_else(|| s.strip_suffix('\r'))
        .unwrap_or(s);
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(MIN_FENCE));
    format!("{fence}\n{body}\n{fence}")
}

/// Keel's own sentences with `code spans` around names: keeps the spans, keeps the table
/// intact, breaks `@mentions` and HTML outside spans. A span is found as CommonMark finds it:
/// a run of N backticks opens one only if a later run of exactly N closes it; an unmatched run
/// is literal backticks (escaped here) and the text after it is ordinary text.
pub fn sentence(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => i = backtick_run(&chars, i, &mut out),
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                // A backslash escape: the next character is literal, never a span's start.
                out.push('\\');
                match chars[i + 1] {
                    '@' => out.push_str("@\u{200b}"),
                    c => out.push(c),
                }
                i += 2;
            }
            c => {
                push_sentence_char(c, &mut out);
                i += 1;
            }
        }
    }
    out
}

/// Writes the backtick run starting at `start` (and the code span it opens, if a run of the
/// same length closes it); returns where to go on.
fn backtick_run(chars: &[char], start: usize, out: &mut String) -> usize {
    let len = run_length(chars, start);
    let Some(close) = closing_run(chars, start + len, len) else {
        for _ in 0..len {
            out.push_str("\\`");
        }
        return start + len;
    };
    for &c in &chars[start..close + len] {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    close + len
}

/// Where the first backtick run of exactly `len` at or after `from` starts.
fn closing_run(chars: &[char], mut from: usize, len: usize) -> Option<usize> {
    while from < chars.len() {
        if chars[from] == '`' {
            let here = run_length(chars, from);
            if here == len {
                return Some(from);
            }
            from += here;
        } else {
            from += 1;
        }
    }
    None
}

/// How many backticks follow one another from `start`.
fn run_length(chars: &[char], start: usize) -> usize {
    chars[start..].iter().take_while(|&&c| c == '`').count()
}

/// One character of a sentence outside code spans.
fn push_sentence_char(c: char, out: &mut String) {
    match c {
        '|' => out.push_str("\\|"),
        '\n' | '\r' => out.push(' '),
        '@' => out.push_str("@\u{200b}"),
        '<' => out.push_str("&lt;"),
        c => out.push(c),
    }
}

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
