//! Plain text for terminals (`keel check`).

use crate::evaluation::{Evaluation, Status};
use std::fmt::Write;

/// The evaluation as aligned text, with explanations under failing rows.
pub fn text(ev: &Evaluation) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Keel · {}\n", super::markdown::title(ev));
    // What was not judged comes first: a green title over skipped rows is not a pass.
    let unjudged: Vec<String> = ev
        .unjudged()
        .map(|c| format!("{} ({})", c.title, c.explanation))
        .collect();
    if !unjudged.is_empty() {
        let _ = writeln!(s, "Not judged: {}.\n", unjudged.join("; "));
    }
    let width = ev
        .criteria
        .iter()
        .map(|c| c.title.chars().count())
        .max()
        .unwrap_or(0);
    for c in &ev.criteria {
        let tag = match c.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Waived => "WAIVED",
        };
        let _ = write!(
            s,
            "  {tag}  {:width$}  {:>12}",
            c.title,
            c.actual.as_deref().unwrap_or("-")
        );
        if let Some(t) = &c.threshold {
            let _ = write!(s, "  {t}");
        }
        if let (Some(b), Some(d)) = (&c.baseline, &c.delta) {
            let _ = write!(s, "  (base {b}, {d})");
        }
        let _ = writeln!(s, "  [{}]", c.level.as_str());
        let _ = writeln!(s, "        {}", c.explanation);
        if let Some(why) = c
            .why
            .as_deref()
            .filter(|_| matches!(c.status, Status::Fail | Status::Warn))
        {
            let _ = writeln!(s, "        why: {why}");
        }
    }
    if ev.criteria.is_empty() {
        s.push_str("  no criteria are configured\n");
    }
    strategy(ev, &mut s);
    if !ev.annotations.is_empty() {
        let _ = writeln!(s, "\nAnnotations ({}):", ev.annotations.len());
        for a in ev.annotations.iter().take(20) {
            let lines = if a.start_line == a.end_line {
                a.start_line.to_string()
            } else {
                format!("{}-{}", a.start_line, a.end_line)
            };
            let _ = writeln!(
                s,
                "  {}:{lines}: {}: {}",
                a.path,
                a.level.as_str(),
                a.message
            );
        }
        if ev.annotations.len() > 20 {
            let _ = writeln!(
                s,
                "  … and {} more (use --format json)",
                ev.annotations.len() - 20
            );
        }
    }
    if !ev.notes.is_empty() {
        let _ = writeln!(s, "\nNotes:");
        for n in &ev.notes {
            let _ = writeln!(s, "  {n}");
        }
    }
    s
}

/// Roadmap links and the debt verdict, when the config has them.
fn strategy(ev: &Evaluation, s: &mut String) {
    use crate::evaluation::debt::Direction;
    if let Some(r) = &ev.roadmap {
        let _ = writeln!(s, "\nRoadmap:");
        for link in &r.links {
            let how: Vec<String> = link.reasons.iter().map(|r| r.describe()).collect();
            let _ = writeln!(
                s,
                "  {} {} ({}): {}",
                link.item.id,
                link.item.title,
                link.item.status.as_str(),
                how.join("; ")
            );
            if let Some(h) = &link.item.hypothesis {
                let _ = writeln!(s, "        {}", h.text);
                if let Some(problem) = &h.problem {
                    let _ = writeln!(s, "        warning: not measurable yet: {problem}");
                }
            }
        }
        if r.links.is_empty() {
            match &r.upkeep {
                Some(why) => {
                    let _ = writeln!(s, "  not linked; upkeep: {why}");
                }
                None => s.push_str("  not linked to any roadmap item\n"),
            }
        }
    }
    if let Some(d) = &ev.debt {
        let verdict = match (&d.overridden_by, d.direction) {
            (Some(label), _) => format!("no call (label `{label}`)"),
            (None, Direction::Reduced) => "reduced".into(),
            (None, Direction::Added) => "added".into(),
            (None, Direction::Mixed) => "reduced and added".into(),
            (None, Direction::Neutral) => "no change".into(),
        };
        let _ = writeln!(s, "\nTechnical debt: {verdict}");
        for r in &d.reasons {
            let _ = writeln!(s, "  {} {}", if r.reduces { "-" } else { "+" }, r.text);
        }
        for item in &d.items {
            let _ = writeln!(s, "  {} {}: {}", item.id, item.title, item.impact);
        }
    }
}
