use super::*;
use crate::report::lcov::parse_lcov;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// One LCOV record: a file number, `DA` lines in the order written (repeats allowed), and
/// per line the branches written in one run (taken or not), in ascending or descending order.
type Record = (u8, Vec<(u32, u8)>, BTreeMap<u32, Vec<bool>>, bool);

fn record() -> impl Strategy<Value = Record> {
    (
        0u8..3,
        proptest::collection::vec((1u32..120, 0u8..3), 0..40),
        proptest::collection::btree_map(
            1u32..120,
            proptest::collection::vec(any::<bool>(), 1..5),
            0..8,
        ),
        any::<bool>(),
    )
}

fn lcov(records: &[Record]) -> String {
    let mut text = String::new();
    for (file, lines, branches, descending) in records {
        text.push_str(&format!("SF:f{file}\n"));
        for (line, hits) in lines {
            text.push_str(&format!("DA:{line},{hits}\n"));
        }
        let mut order: Vec<_> = branches.iter().collect();
        if *descending {
            order.reverse();
        }
        for (line, taken) in order {
            for (i, t) in taken.iter().enumerate() {
                let count = if *t { "1" } else { "-" };
                text.push_str(&format!("BRDA:{line},0,{i},{count}\n"));
            }
        }
        text.push_str("end_of_record\n");
    }
    text
}

/// The reference model: per (file, line), covered by any record; per (file, line), the most
/// branches any record lists and which branch numbers any record took.
#[derive(Default)]
struct Model {
    lines: BTreeMap<(String, u32), bool>,
    branches: BTreeMap<(String, u32), (u32, BTreeSet<usize>)>,
}

impl Model {
    fn add(&mut self, records: &[Record], rename: impl Fn(u8) -> String) {
        for (file, lines, branches, _) in records {
            for (line, hits) in lines {
                *self.lines.entry((rename(*file), *line)).or_default() |= *hits > 0;
            }
            for (line, taken) in branches {
                let e = self.branches.entry((rename(*file), *line)).or_default();
                e.0 = e.0.max(taken.len() as u32);
                e.1.extend(
                    taken
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| **t)
                        .map(|(i, _)| i),
                );
            }
        }
    }

    fn status(&self, file: &str, line: u32) -> LineStatus {
        match self.lines.get(&(file.to_owned(), line)) {
            None => LineStatus::NotCoverable,
            Some(false) => LineStatus::Missed,
            Some(true) => match self.branches.get(&(file.to_owned(), line)) {
                Some((total, taken)) if (taken.len() as u32) < *total => LineStatus::Partial,
                _ => LineStatus::Covered,
            },
        }
    }

    fn lines_of(&self, file: &str) -> Ratio {
        let of: Vec<bool> = self
            .lines
            .iter()
            .filter(|((f, _), _)| f == file)
            .map(|(_, c)| *c)
            .collect();
        Ratio::new(of.iter().filter(|c| **c).count() as u64, of.len() as u64)
    }

    fn branches_of(&self, file: &str) -> Ratio {
        self.branches.iter().filter(|((f, _), _)| f == file).fold(
            Ratio::default(),
            |mut r, (_, (total, taken))| {
                r.add(Ratio::new(taken.len() as u64, u64::from(*total)));
                r
            },
        )
    }

    fn files(&self) -> BTreeSet<&str> {
        self.lines
            .keys()
            .chain(self.branches.keys())
            .map(|(f, _)| f.as_str())
            .collect()
    }

    /// Asserts `file` answers every line as the model does.
    fn check(&self, name: &str, file: Option<&FileCoverage>) -> Result<(), TestCaseError> {
        let Some(file) = file else {
            prop_assert!(!self.files().contains(name), "{name} missing");
            return Ok(());
        };
        for line in 0..=121 {
            prop_assert_eq!(
                file.line(line),
                self.status(name, line),
                "{} line {}",
                name,
                line
            );
            let want = self
                .branches
                .get(&(name.to_owned(), line))
                .map(|(t, k)| (*t, k.len() as u32));
            prop_assert_eq!(
                file.branch(line).map(|b| (b.total(), b.taken())),
                want,
                "{} branch {}",
                name,
                line
            );
        }
        prop_assert_eq!(file.lines(), self.lines_of(name));
        prop_assert_eq!(file.branches(), self.branches_of(name));
        Ok(())
    }
}

fn parse(text: &str) -> CoverageReport {
    parse_lcov("t.info", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

proptest! {
    #[test]
    fn lookups_and_ratios_equal_a_reference_model_across_merges(
        reports in proptest::collection::vec(proptest::collection::vec(record(), 1..6), 1..4),
    ) {
        let mut model = Model::default();
        let mut merged: Option<CoverageReport> = None;
        for records in &reports {
            model.add(records, |f| format!("f{f}"));
            let report = parse(&lcov(records));
            match &mut merged {
                None => merged = Some(report),
                Some(m) => m.merge(report).unwrap(),
            }
        }
        let merged = merged.unwrap();
        for f in 0..3u8 {
            let name = format!("f{f}");
            model.check(&name, merged.file(&name))?;
        }
        let all: Vec<Record> = reports.concat();
        prop_assert_eq!(&parse(&lcov(&all)).totals(), &merged.totals(), "one report or several merged");

        // A view that maps every file to one path merges them like one file.
        let mut one = Model::default();
        one.add(&all, |_| "all".to_owned());
        let view = merged.view(|_| Some("all".to_owned()));
        one.check("all", view.file("all"))?;
    }

    #[test]
    fn the_line_budget_counts_distinct_entries_exactly(
        lines in proptest::collection::vec(1u32..60, 1..200),
        budget in 1u64..40,
    ) {
        let text: String = std::iter::once("SF:a\n".to_owned())
            .chain(lines.iter().map(|l| format!("DA:{l},1\n")))
            .chain(std::iter::once("end_of_record\n".to_owned()))
            .collect();
        let limits = Limits { max_coverage_lines: budget, ..Limits::DEFAULT };
        let distinct = lines.iter().collect::<BTreeSet<_>>().len() as u64;
        let result = parse_lcov("t", text.as_bytes(), &limits);
        prop_assert_eq!(result.is_ok(), distinct <= budget, "{} distinct lines, budget {}", distinct, budget);
    }
}

#[test]
fn merging_reports_over_the_line_budget_is_refused() {
    let limits = Limits {
        max_coverage_lines: 4,
        ..Limits::DEFAULT
    };
    let read = |text: &str| parse_lcov("t", text.as_bytes(), &limits).unwrap();
    let mut merged = read("SF:a\nDA:1,1\nDA:2,0\nend_of_record\n");
    merged
        .merge(read("SF:a\nDA:2,1\nDA:3,0\nend_of_record\n"))
        .unwrap();
    assert_eq!(
        merged.totals().lines,
        Ratio::new(2, 3),
        "line 2 counted once"
    );
    let err = merged
        .merge(read("SF:b\nDA:1,1\nDA:2,1\nend_of_record\n"))
        .unwrap_err();
    assert_eq!(err, LinesExceeded { limit: 4 });
    assert!(err.to_string().contains("more than 4 lines"), "{err}");
}

#[test]
fn the_heap_estimate_follows_the_lines_listed() {
    let text: String = std::iter::once("SF:a\n".to_owned())
        .chain((1..=1 << 16).rev().map(|l| format!("DA:{l},{}\n", l % 2)))
        .chain(std::iter::once("end_of_record\n".to_owned()))
        .collect();
    let r = parse(&text);
    assert_eq!(r.totals().lines, Ratio::new(1 << 15, 1 << 16));
    let bytes = r.heap_bytes();
    assert!(
        (4 << 16..6 << 16).contains(&bytes),
        "65,536 lines in reverse order: four bytes a line once finished, got {bytes}"
    );
}
