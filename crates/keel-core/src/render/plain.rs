//! Keel's markdown made readable in a terminal (`keel replay` prints what it would post):
//! escapes undone, emphasis and code fences dropped, links reduced to their text, HTML tags
//! and comments removed, tables aligned in columns.
//!
//! Only the markdown Keel itself writes is in scope; the output is for eyes, never parsed.

/// `markdown` as plain text.
pub fn from_markdown(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut table: Vec<Vec<String>> = Vec::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('|') && trimmed.ends_with('|') && trimmed.len() > 1 {
            if !trimmed.starts_with("|---") {
                table.push(cells(trimmed));
            }
            continue;
        }
        flush_table(&mut table, &mut out);
        if trimmed.starts_with("<!--") && trimmed.ends_with("-->") {
            continue;
        }
        let line = line.trim_start_matches('#').trim_start_matches(' ');
        let text = inline(line);
        if text.trim().is_empty() && trimmed.starts_with('<') {
            continue;
        }
        out.push_str(&text);
        out.push('\n');
    }
    flush_table(&mut table, &mut out);
    out
}

/// The cells of a table row, each made plain.
fn cells(row: &str) -> Vec<String> {
    let inner = &row[1..row.len() - 1];
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push_str("\\|");
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells.iter().map(|c| inline(c.trim())).collect()
}

/// Writes the rows gathered so far as aligned columns.
fn flush_table(rows: &mut Vec<Vec<String>>, out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows.drain(..) {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad + 1));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// One line's inline markdown made plain.
fn inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '\u{200b}' => {}
            '`' => {
                // A code span: its text as is, without the fence.
                let run = chars[i..].iter().take_while(|&&x| x == '`').count();
                let rest: String = chars[i + run..].iter().collect();
                let fence = "`".repeat(run);
                if let Some(end) = rest.find(&fence) {
                    // Code spans escape `|` for tables; a terminal has no table to break.
                    out.push_str(&rest[..end].trim_matches(' ').replace("\\|", "|"));
                    i += run + rest[..end].chars().count() + run;
                    continue;
                }
                out.push_str(&fence);
                i += run;
                continue;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                continue;
            }
            '_' if is_emphasis(&chars, i) => {}
            '[' => {
                // A link: its text only.
                let rest: String = chars[i + 1..].iter().collect();
                if let Some(close) = rest.find("](")
                    && let Some(end) = rest[close..].find(')')
                {
                    out.push_str(&inline(&rest[..close]));
                    i += 1 + rest[..close + end + 1].chars().count();
                    continue;
                }
                out.push(c);
            }
            '<' => {
                let rest: String = chars[i..].iter().collect();
                if let Some(end) = rest.find('>')
                    && is_tag(&rest[..=end])
                {
                    if rest[..=end].eq_ignore_ascii_case("<br>") {
                        out.push_str("\n    ");
                    }
                    i += rest[..=end].chars().count();
                    continue;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// `_` opens or closes emphasis: at a word's edge, not inside one (`snake_case`).
fn is_emphasis(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|j| chars[j]);
    let after = chars.get(i + 1).copied();
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    !(word(before) && word(after))
}

/// An HTML tag Keel writes: `<details>`, `</sub>`, `<br>`, `<summary>`.
fn is_tag(s: &str) -> bool {
    let name = s
        .trim_start_matches('<')
        .trim_start_matches('/')
        .trim_end_matches('>');
    ["details", "summary", "sub", "br", "b"].contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keels_markdown_reads_as_plain_text() {
        let md = "### ❌ Definition of done not met\n\n**Patch coverage**: 84\\.21% (needs ≥ 90%) — 3 added lines in `pkg/gate.py` are not covered.\n<br>_Why it matters:_ incidents\n\n- `a_b.py` — 3 lines: lines [22](https://x/a#L22), 31\n\n<details><summary>✅ 1 met</summary>\n\n| | Criterion | Actual |\n|---|---|---|\n| ✅ | Title | feat: x \\| y @\u{200b}octocat |\n\n</details>\n<!-- keel:definition-of-done -->";
        let text = from_markdown(md);
        assert_eq!(
            text,
            "❌ Definition of done not met\n\nPatch coverage: 84.21% (needs ≥ 90%) — 3 added lines in pkg/gate.py are not covered.\n\n    Why it matters: incidents\n\n- a_b.py — 3 lines: lines 22, 31\n\n✅ 1 met\n\n     Criterion  Actual\n  ✅  Title      feat: x | y @octocat\n\n"
        );
    }
}
