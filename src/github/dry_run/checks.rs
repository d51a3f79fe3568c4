//! The dry run's check runs: kept in memory and printed, and answered for as GitHub would (a
//! completed run keeps its conclusion).

use super::DryRun;
use crate::github::CommitSha;
use crate::github::api::{CheckRunOutput, CheckRunState};
use keel_core::render::plain;

impl DryRun {
    /// The latest run `name` on `head_sha`.
    pub(super) fn find_run(&self, name: &str, head_sha: &CommitSha) -> Option<CheckRunState> {
        let s = self.lock();
        let found = s
            .check_runs
            .iter()
            .rposition(|r| r.0 == name && r.1 == *head_sha);
        found.map(|i| run_state(&s.check_runs, i as u64 + 1))
    }

    /// A new run, in progress; its id.
    pub(super) fn start_run(&self, name: &str, head_sha: &CommitSha) -> u64 {
        let id = {
            let mut s = self.lock();
            s.check_runs
                .push((name.to_owned(), head_sha.clone(), "in_progress".into()));
            s.check_runs.len() as u64
        };
        self.print(&format!(
            "── check run {id} \"{name}\" on {head_sha}: created, in progress"
        ));
        id
    }

    /// Prints run `id`'s progress.
    pub(super) fn show_run(&self, id: u64, title: &str, summary: &str) -> CheckRunState {
        self.print(&format!(
            "── check run {id}: in progress · {title}\n{}",
            plain::from_markdown(summary)
        ));
        run_state(&self.lock().check_runs, id)
    }

    /// Completes run `id` unless it was completed before, and prints it.
    pub(super) fn complete_run(&self, id: u64, output: &CheckRunOutput<'_>) -> CheckRunState {
        let conclusion = output.conclusion.as_str();
        let state = {
            let mut s = self.lock();
            if let Some(run) = s.check_runs.get_mut(index(id))
                && run.2 == "in_progress"
            {
                run.2 = conclusion.to_owned();
            }
            run_state(&s.check_runs, id)
        };
        let mut text = format!(
            "── check run {id}: completed, {conclusion} · {}\n{}",
            output.title,
            plain::from_markdown(output.summary)
        );
        if !output.annotations.is_empty() {
            text.push_str(&format!("\nannotations ({}):", output.annotations.len()));
            for a in output.annotations {
                text.push_str(&format!(
                    "\n  {}:{} {} {}: {}",
                    a.path,
                    a.start_line,
                    a.level.as_str(),
                    a.title,
                    a.message
                ));
            }
        }
        self.print(&text);
        state
    }
}

/// Where run `id` (from 1) sits in the dry run's list.
fn index(id: u64) -> usize {
    usize::try_from(id).unwrap_or(0).wrapping_sub(1)
}

/// Run `id` as GitHub would answer for it.
fn run_state(runs: &[(String, CommitSha, String)], id: u64) -> CheckRunState {
    let state = runs.get(index(id)).map_or("in_progress", |r| r.2.as_str());
    let done = state != "in_progress";
    CheckRunState {
        id,
        status: if done { "completed" } else { "in_progress" }.to_owned(),
        conclusion: done.then(|| state.to_owned()),
        external_id: None,
    }
}
