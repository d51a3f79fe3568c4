//! Keel's integration tests: one binary, one module per area.

// The layout's rules: layers point down, no circles in the core, the core stays pure, small files.
mod architecture;
// Attacks on the gate: each way to pass it without meeting the definition of done, closed.
mod attacks;
// Claims whatever the backlog's shape: lanes, fair order, rate-limit parks.
mod claims;
// Coalescing: workflow runs judge again only what they can change; artifacts read once.
mod coalescing;
// `/keel` comment commands: reactions, permissions, one reply, edits and bots ignored.
mod commands;
// `keel check`, `keel config`: exit codes, output formats, the JSON contract, git diffs.
mod cli;
// Keel never blocks the wrong change: exemptions, path scoping, labels, `[comment] when`.
mod exemptions;
// End-to-end latency under load (ignored; scripts/bench-e2e).
mod bench_e2e;
// The dashboard's pages cold, warm and with GitHub down (ignored; scripts/bench-dashboard).
mod bench_dashboard;
// `keel serve` killed with SIGKILL while deliveries stream in.
mod crash;
// The dashboard: sign-in with GitHub, what a viewer may see, the weekly figures as pages.
mod dashboard;
// `keel action` in a simulated workflow.
mod action;
// `keel action`: the baseline from the base's push run, the fork `workflow_run` pattern.
mod action_sources;
// The durable job queue on SQLite and PostgreSQL.
// The GitHub App manifest against the events and permissions the code handles.
mod manifest;
// `keel setup`: the App registered in one click through GitHub's manifest flow.
mod setup;
// Hostile input: nested, truncated, invalid, huge.
mod hostile;
mod queue;
// Webhooks Keel never took, asked for again from GitHub's delivery log.
mod redelivery;
// Reports from wherever CI makes them: matrices, several workflows, no run, `keel upload`.
mod report_sources;
// Reports from workflow run artifacts, baselines, labels, merge groups, re-requests, installations.
mod reports_flow;
// `keel replay` against the dry-run GitHub.
mod replay;
// `keel init` on sample Python, Rust and JavaScript repositories, checked by actionlint.
mod init;
// A pull request through intake, worker and FakeGitHub: base config, one check run, retries.
mod evaluate_pr;
// Turning Keel on: the first config previewed, a broken base config fixed by a pull request.
mod onboarding;
/// Organisation policy through the App: floors, last good, fail closed.
mod org_policy;
// Fault injection: 5xx, lost answers, rate limits, expired tokens, truncation, slowness.
mod faults;
// The fuzz targets over their seed corpora and kept crashes.
mod fuzz_seeds;
// The GitHub client against the FakeGitHub: JWT, tokens, files, check runs, errors.
mod github;
// `keel serve` as a process: settings, a real socket, graceful shutdown.
mod serve;
// What the store remembers between deliveries: pull requests, comments, runs, baselines.
mod state;
// Roadmap links, debt labels and merges through the App.
mod strategy_flow;
// Delivery facts, the weekly summary issue and its scheduler.
mod summary_flow;
// The declared Rust version: Cargo.toml, README, Dockerfile and the locked dependencies agree.
mod toolchain;
// Webhook intake: signatures, limits, headers, payloads, redeliveries, metrics.
mod webhook;
// Test helpers: running the binary, temporary repositories, test databases, signed webhooks.
mod support;
