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

/// GFM splits a table row at every `|` not preceded by a backslash (its cell scanner takes the
/// longest match, so `\` before `|` always escapes it): the number of such pipes.
fn cell_delimiters(row: &str) -> usize {
    let b = row.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

/// The byte ranges of code spans in `s` as CommonMark finds them, by a plain left-to-right
/// reading: backslash escapes outside spans, then runs matched by exact length.
fn code_spans(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let run = |at: usize| b[at..].iter().take_while(|&&c| c == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1).is_some_and(u8::is_ascii_punctuation) {
            i += 2;
        } else if b[i] == b'`' {
            let n = run(i);
            let mut j = i + n;
            let close = loop {
                match b[j..].iter().position(|&c| c == b'`') {
                    None => break None,
                    Some(k) if run(j + k) == n => break Some(j + k),
                    Some(k) => j += k + run(j + k),
                }
            };
            match close {
                Some(c) => {
                    spans.push(i..c + n);
                    i = c + n;
                }
                None => i += n,
            }
        } else {
            i += 1;
        }
    }
    spans
}

/// Whether a line closes a backtick fence of `len`: up to three spaces, at least `len`
/// backticks, then only spaces or tabs.
fn closes_fence(line: &str, len: usize) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let ticks = rest.len() - rest.trim_start_matches('`').len();
    indent <= 3 && ticks >= len && rest[ticks..].chars().all(|c| c == ' ' || c == '\t')
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

#[test]
fn sentence_matches_backtick_runs_by_length() {
    // "```" is never closed, so it is literal and what follows is text: escaped.
    assert_eq!(
        sentence("``` @bob <b> `x` done"),
        "\\`\\`\\` @\u{200b}bob &lt;b> `x` done"
    );
    // A run of two closes only a run of two; a single backtick inside is content.
    assert_eq!(sentence("``a`@b`` @c"), "``a`@b`` @\u{200b}c");
    // A backslash-escaped backtick opens nothing.
    assert_eq!(sentence("\\`@x`"), "\\`@\u{200b}x\\`");
}

#[test]
fn fenced_blocks_outlast_every_backtick_run_inside() {
    assert_eq!(fenced("plain\n"), "```\nplain\n```");
    assert_eq!(fenced("a\n```\nb"), "````\na\n```\nb\n````");
    assert_eq!(fenced("x ````` y"), "``````\nx ````` y\n``````");
    assert_eq!(fenced(""), "```\n\n```");
}

/// Untrusted text: markdown's punctuation, line breaks and anything else.
fn untrusted() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![
                '`', '|', '\n', '\r', '<', '>', '@', '#', '*', '[', ']', '\\', '~', ' ', '_', '!',
            ]),
            2 => prop::char::range('a', 'e'),
            1 => any::<char>(),
        ],
        0..48,
    )
    .prop_map(String::from_iter)
}

proptest! {
    #[test]
    fn escaped_text_has_no_live_markup(s in ".*") {
        let e = text(&s);
        prop_assert!(!unescaped_markup(&e));
        prop_assert!(!e.contains('\n'));
    }

    #[test]
    fn code_spans_are_never_closed_early(s in untrusted()) {
        let c = code(&s);
        let fence_len = c.chars().take_while(|&ch| ch == '`').count();
        let inner = &c[fence_len..c.len() - fence_len];
        prop_assert!(inner.split(|ch| ch != '`').all(|run| run.len() < fence_len));
        prop_assert_eq!(code_spans(&c), vec![0..c.len()]);
    }

    #[test]
    fn untrusted_text_cannot_change_a_tables_structure(s in untrusted()) {
        let row = format!("| {} | {} | {} |", text(&s), code(&s), sentence(&s));
        prop_assert!(!row.contains(['\n', '\r']), "{row:?}");
        prop_assert_eq!(cell_delimiters(&row), 4, "{:?}", row);
    }

    #[test]
    fn sentences_leave_no_live_mention_or_html_outside_code(s in untrusted()) {
        let out = sentence(&s);
        let spans = code_spans(&out);
        let outside = |at: usize| !spans.iter().any(|r| r.contains(&at));
        for (at, c) in out.char_indices() {
            if c == '<' && outside(at) {
                prop_assert!(out[..at].ends_with('\\'), "live `<` at {at} in {out:?}");
            }
            if c == '@' && outside(at) {
                prop_assert!(out[at + 1..].starts_with('\u{200b}'), "live `@` in {out:?}");
            }
        }
    }

    #[test]
    fn untrusted_text_cannot_close_a_fenced_block_early(s in untrusted()) {
        let block = fenced(&s);
        let doc = format!("before\n\n{block}\nAFTER\n");
        let lines: Vec<&str> = doc.split(['\n', '\r']).collect();
        // Lines split at `\r` too, as CommonMark does; an empty piece of a `\r\n` does not
        // matter for where the fence closes.
        let open = lines.iter().position(|l| l.starts_with("```")).unwrap();
        let len = lines[open].len();
        prop_assert!(len >= 3);
        let close = open + 1 + lines[open + 1..].iter().position(|l| closes_fence(l, len)).unwrap();
        prop_assert_eq!(lines[close + 1], "AFTER", "{:?}", doc);
    }
}
