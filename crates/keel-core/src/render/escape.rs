//! Making text safe to put in GitHub markdown.
//!
//! Text from outside (titles, branch names, tool messages, file paths) must not format, ping
//! people or open HTML. Two tools: [`text`] backslash-escapes markdown punctuation, and
//! [`code`] puts text in a code span whose fence is longer than any backtick run inside.
//! Both also keep a table intact (no `|`, no newline) and break `@mentions`.

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
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') || flat.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// Our own sentences with `code spans` around names: keeps the spans, keeps the table intact,
/// breaks `@mentions` and HTML outside spans.
pub fn sentence(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '@' if !in_code => out.push_str("@\u{200b}"),
            '<' if !in_code => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Renders markdown to HTML's visible text with pulldown-cmark-free means: we only need to
    /// know that escaped text has no markup characters left unescaped.
    fn unescaped_markup(s: &str) -> bool {
        let mut prev_backslash = false;
        for c in s.chars() {
            if !prev_backslash && matches!(c, '*' | '_' | '[' | ']' | '<' | '|' | '`') {
                return true;
            }
            prev_backslash = c == '\\' && !prev_backslash;
        }
        false
    }

    #[test]
    fn mentions_and_tables_are_neutralised() {
        assert_eq!(text("@alice | *x*"), "@\u{200b}alice \\| \\*x\\*");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("x|y"), "`x\\|y`");
        assert_eq!(
            sentence("`a|b` @bob <img>"),
            "`a\\|b` @\u{200b}bob &lt;img>"
        );
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_live_markup(s in ".*") {
            let e = text(&s);
            prop_assert!(!unescaped_markup(&e));
            prop_assert!(!e.contains('\n'));
        }

        #[test]
        fn code_spans_are_never_closed_early(s in "[a-z`|]{0,20}") {
            let c = code(&s);
            let fence_len = c.chars().take_while(|&ch| ch == '`').count();
            let inner = &c[fence_len..c.len() - fence_len];
            let fence = "`".repeat(fence_len);
            prop_assert!(!inner.contains(&fence));
        }
    }
}
