//! Comment commands: `/keel <verb> [args]` at the start of a line of a pull request comment,
//! review body or review comment; several per comment.
//!
//! The text is parsed as markdown (pulldown-cmark), so a command only runs where a person
//! wrote it as their own words: nothing inside code blocks, inline code, block quotes (a
//! quoted reply), list items, headings, tables, HTML blocks, inline HTML or HTML comments,
//! links or images runs. Text that
//! does not start a line with `/keel` is silence; `/keel` with an unknown verb is one
//! [`Parsed::Unknown`] (the caller replies once, with help).

use crate::config::Day;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Most commands read from one comment; the rest are ignored (and said to be).
pub const MAX_COMMANDS: usize = 10;
/// Longest comment body read, in bytes (GitHub's own limit is 65,536 characters).
pub const MAX_BODY_BYTES: usize = 262_144;

/// What a `/keel` line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `help`: the commands and who may use them.
    Help,
    /// `recheck`: judge the pull request again.
    Recheck,
    /// `explain <criterion>`: why a criterion failed and how to fix it.
    Explain(String),
    /// `link <item or #issue>`: serve a roadmap item.
    Link(String),
    /// `unlink <item or #issue>`.
    Unlink(String),
    /// `debt reduced|added|none`: how the change moves technical debt.
    Debt(DebtCall),
    /// `waive <criterion> reason="…" [until=YYYY-MM-DD]`: ship below the bar, on the record.
    Waive {
        /// The criterion (`coverage.min_patch`, or its title).
        criterion: String,
        /// Why (required).
        reason: String,
        /// The last day it holds, if given.
        until: Option<Day>,
    },
    /// `unwaive <criterion>`.
    Unwaive(String),
    /// `outcome <item> <value>`: the measured result of a roadmap item's hypothesis.
    Outcome {
        /// The roadmap item.
        item: String,
        /// The measured value, as written (`2.9%`).
        value: String,
    },
}

impl Verb {
    /// Whether the verb changes state (so needs write permission at least).
    pub fn changes_state(&self) -> bool {
        !matches!(self, Verb::Help | Verb::Explain(_))
    }

    /// The verb's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Help => "help",
            Verb::Recheck => "recheck",
            Verb::Explain(_) => "explain",
            Verb::Link(_) => "link",
            Verb::Unlink(_) => "unlink",
            Verb::Debt(_) => "debt",
            Verb::Waive { .. } => "waive",
            Verb::Unwaive(_) => "unwaive",
            Verb::Outcome { .. } => "outcome",
        }
    }
}

/// `/keel debt …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DebtCall {
    /// The change pays debt down.
    Reduced,
    /// The change takes debt on.
    Added,
    /// Neither.
    None,
}

/// One `/keel` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A command Keel understands.
    Command(Verb),
    /// `/keel` followed by a verb Keel does not know (or nothing).
    Unknown(String),
    /// A known verb with arguments that do not fit: the verb and what is wrong.
    Invalid {
        /// The verb.
        verb: &'static str,
        /// What is wrong, in plain words.
        why: String,
    },
}

/// The `/keel` lines of a comment as the author wrote them (each parses alone with
/// [`parse`]), at most [`MAX_COMMANDS`]: what a queued job keeps of a comment.
pub fn command_lines(body: &str) -> Vec<String> {
    own_lines(capped(body))
        .into_iter()
        .filter(|line| command_line(line).is_some())
        .map(|line| line.trim().to_owned())
        .take(MAX_COMMANDS)
        .collect()
}

fn capped(body: &str) -> &str {
    if body.len() <= MAX_BODY_BYTES {
        return body;
    }
    let mut end = MAX_BODY_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

/// The `/keel` lines of a comment, in order, at most [`MAX_COMMANDS`].
pub fn parse(body: &str) -> Vec<Parsed> {
    own_lines(capped(body))
        .iter()
        .filter_map(|line| command_line(line))
        .take(MAX_COMMANDS)
        .map(|args| parse_command(&args))
        .collect()
}

/// The lines of text the author wrote as their own: paragraphs' text, split at line breaks,
/// with quoted, code, HTML, link and image content left out. Inline code is kept only inside
/// a line that already is a command (`/keel explain `coverage``), never to start one.
fn own_lines(body: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut skipped = 0usize;
    let mut in_paragraph = false;
    let flush = |line: &mut String, lines: &mut Vec<String>| {
        if !line.trim().is_empty() {
            lines.push(std::mem::take(line));
        }
        line.clear();
    };
    for event in Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(
                Tag::BlockQuote(_)
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::Heading { .. }
                | Tag::Item
                | Tag::Table(_),
            ) => {
                flush(&mut line, &mut lines);
                skipped += 1;
            }
            Event::End(
                TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::Link
                | TagEnd::Image
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::Table,
            ) => {
                skipped = skipped.saturating_sub(1);
                // A link or image inside a line ends what can be read of that line.
                flush(&mut line, &mut lines);
            }
            Event::Start(Tag::Paragraph) => {
                flush(&mut line, &mut lines);
                in_paragraph = true;
            }
            Event::End(TagEnd::Paragraph) => {
                flush(&mut line, &mut lines);
                in_paragraph = false;
            }
            Event::SoftBreak | Event::HardBreak => flush(&mut line, &mut lines),
            Event::Text(text) if skipped == 0 && in_paragraph => line.push_str(&text),
            Event::Code(code) if skipped == 0 && in_paragraph => {
                if command_line(&line).is_some() {
                    line.push_str(&code);
                } else {
                    // Inline code can never start or hide in a command: end the line.
                    flush(&mut line, &mut lines);
                    line.push('\u{1}');
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                // `<!-- /keel waive … -->` and other HTML: never read, and the line ends.
                flush(&mut line, &mut lines);
                line.push('\u{1}');
            }
            _ => {}
        }
    }
    flush(&mut line, &mut lines);
    lines
}

/// The text after `/keel` when `line` starts with it (leading spaces allowed).
fn command_line(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("/keel")?;
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim().to_owned())
    } else {
        None
    }
}

/// Splits arguments on whitespace; `"…"` (or `“…”`) keeps spaces, `key="…"` too.
fn words(args: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in args.chars() {
        match (quote, c) {
            (None, '"' | '“') => {
                quote = Some(if c == '“' { '”' } else { '"' });
                any = true;
            }
            (Some(close), c) if c == close => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".to_owned());
    }
    if any {
        out.push(word);
    }
    Ok(out)
}

fn parse_command(args: &str) -> Parsed {
    let mut it = args.split_whitespace();
    let Some(verb) = it.next() else {
        return Parsed::Unknown(String::new());
    };
    let verb_lower = verb.to_ascii_lowercase();
    let rest = args[verb.len()..].trim();
    let words = match words(rest) {
        Ok(w) => w,
        Err(why) => {
            return match known(&verb_lower) {
                Some(name) => Parsed::Invalid { verb: name, why },
                None => Parsed::Unknown(verb.to_owned()),
            };
        }
    };
    let invalid = |verb: &'static str, why: &str| Parsed::Invalid {
        verb,
        why: why.to_owned(),
    };
    let one = |verb: &'static str, what: &str, make: fn(String) -> Verb| match words.as_slice() {
        [one] => Parsed::Command(make(one.clone())),
        [] => invalid(verb, &format!("name a {what}")),
        _ => invalid(verb, &format!("name only one {what}")),
    };
    match verb_lower.as_str() {
        "help" => Parsed::Command(Verb::Help),
        "recheck" => Parsed::Command(Verb::Recheck),
        "explain" => one("explain", "criterion", Verb::Explain),
        "link" => one("link", "roadmap item or #issue", Verb::Link),
        "unlink" => one("unlink", "roadmap item or #issue", Verb::Unlink),
        "unwaive" => one("unwaive", "criterion", Verb::Unwaive),
        "debt" => match words.as_slice() {
            [w] if w.eq_ignore_ascii_case("reduced") => {
                Parsed::Command(Verb::Debt(DebtCall::Reduced))
            }
            [w] if w.eq_ignore_ascii_case("added") => Parsed::Command(Verb::Debt(DebtCall::Added)),
            [w] if w.eq_ignore_ascii_case("none") => Parsed::Command(Verb::Debt(DebtCall::None)),
            _ => invalid("debt", "say `reduced`, `added` or `none`"),
        },
        "outcome" => match words.as_slice() {
            [item, value] => Parsed::Command(Verb::Outcome {
                item: item.clone(),
                value: value.clone(),
            }),
            _ => invalid(
                "outcome",
                "name the roadmap item and the measured value, e.g. `/keel outcome R-12 2.9%`",
            ),
        },
        "waive" => waive(&words),
        _ => Parsed::Unknown(verb.to_owned()),
    }
}

fn known(verb: &str) -> Option<&'static str> {
    [
        "help", "recheck", "explain", "link", "unlink", "debt", "waive", "unwaive", "outcome",
    ]
    .into_iter()
    .find(|k| *k == verb)
}

fn waive(words: &[String]) -> Parsed {
    let invalid = |why: String| Parsed::Invalid { verb: "waive", why };
    let Some((criterion, options)) = words.split_first() else {
        return invalid(
            "name the criterion, e.g. `/keel waive coverage.min_patch reason=\"…\"`".into(),
        );
    };
    if criterion.contains('=') {
        return invalid("name the criterion first, then `reason=\"…\"`".into());
    }
    let mut reason = None;
    let mut until = None;
    for option in options {
        match option.split_once('=') {
            Some(("reason", text)) if !text.trim().is_empty() => {
                reason = Some(text.trim().to_owned())
            }
            Some(("until", day)) => match Day::try_from(day.to_owned()) {
                Ok(d) => until = Some(d),
                Err(why) => return invalid(why),
            },
            _ => {
                return invalid(format!(
                    "`{option}` is not `reason=\"…\"` or `until=YYYY-MM-DD`"
                ));
            }
        }
    }
    let Some(reason) = reason else {
        return invalid("a waiver needs a reason: `reason=\"…\"`".into());
    };
    Parsed::Command(Verb::Waive {
        criterion: criterion.clone(),
        reason,
        until,
    })
}

#[cfg(test)]
mod tests;
