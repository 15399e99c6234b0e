//! The simulator's output: a summary, the verdicts, the targets, and the
//! full tables.

use std::fmt::Write;

use crate::models::Model;
use crate::{DEADLINE, Durations, Progress, SERVER_RETRY_AFTER, Summary, Workload};

/// Where `model` sits in a workload's results.
pub fn index(model: Model) -> usize {
    Model::ALL.iter().position(|&m| m == model).unwrap_or(0)
}

/// The SDK models with both fewer polls and a lower mean delay than `who`.
pub fn dominators(results: &[Summary], who: Model) -> Vec<Model> {
    let mine = results[index(who)];
    Model::SDKS
        .into_iter()
        .filter(|&sdk| {
            let theirs = results[index(sdk)];
            theirs.gave_up == 0 && theirs.polls < mine.polls && theirs.mean_delay < mine.mean_delay
        })
        .collect()
}

/// The workloads the summary and the picture show.
pub const REPRESENTATIVE: [(Durations, Progress, Option<u64>); 4] = [
    (Durations::LogNormal, Progress::Linear, None),
    (Durations::LogNormal, Progress::Noisy, None),
    (Durations::Uniform, Progress::Absent, None),
    (
        Durations::LongTail,
        Progress::Stalled,
        Some(SERVER_RETRY_AFTER),
    ),
];

pub fn find<'a>(
    workloads: &'a [Workload],
    results: &'a [Vec<Summary>],
    (durations, progress, retry_after): (Durations, Progress, Option<u64>),
) -> Option<(&'a Workload, &'a [Summary])> {
    let i = workloads.iter().position(|w| {
        w.durations == durations && w.progress == progress && w.retry_after == retry_after
    })?;
    Some((&workloads[i], results[i].as_slice()))
}

/// A short name for a representative workload.
pub fn short_title(workload: &Workload) -> String {
    let durations = match workload.durations {
        Durations::LogNormal => "lognormal",
        Durations::Uniform => "uniform",
        Durations::LongTail => "long tail",
    };
    let progress = match workload.progress {
        Progress::Linear => "linear",
        Progress::Noisy => "noisy ±10%",
        Progress::SShaped => "S-shaped",
        Progress::Stalled => "stalled",
        Progress::Absent => "no progress",
    };
    match workload.retry_after {
        None => format!("{durations}, {progress}"),
        Some(s) => format!("{durations}, {progress}, Retry-After {s}"),
    }
}

fn setup(jobs: usize) -> String {
    format!(
        "{jobs} jobs per workload on virtual time, each started at 0 s (the start \
         request is not a poll) and polled by the real `Operation` until it ends, \
         with a {} h deadline. Progress is reported rounded to 0.1 and at most \
         99.9 while running; \"noisy ±10%\" puts each report off by up to ±10% of \
         its value. Workloads with Retry-After send `Retry-After: {SERVER_RETRY_AFTER}` \
         on the start answer and every in-progress answer. Delay is the time from \
         the job's true completion to the poll that saw it.\n",
        DEADLINE.as_secs() / 3600
    )
}

/// One table: every model on a few representative workloads, and on how
/// many of all the workloads it dominates the crate default.
pub fn summary(jobs: usize, workloads: &[Workload], results: &[Vec<Summary>]) -> String {
    let mut out = String::from("### Polls per job and mean delay (s)\n\n");
    out.push_str(&setup(jobs));
    out.push_str("\nEach cell: polls per job / mean delay after completion (s).\n\n");
    let shown: Vec<_> = REPRESENTATIVE
        .iter()
        .filter_map(|&w| find(workloads, results, w))
        .collect();
    out.push_str("| policy |");
    for (workload, _) in &shown {
        let _ = write!(out, " {} |", short_title(workload));
    }
    out.push_str(" dominates the default on |\n| --- |");
    for _ in &shown {
        out.push_str(" ---: |");
    }
    out.push_str(" ---: |\n");
    for model in Model::ALL {
        let _ = write!(out, "| {} |", model.short());
        for (_, summaries) in &shown {
            let s = summaries[index(model)];
            let _ = write!(out, " {:.1} / {:.1} |", s.polls, s.mean_delay);
        }
        let wins = results
            .iter()
            .filter(|r| dominators(r, Model::CrateDefault).contains(&model))
            .count();
        if model == Model::CrateDefault {
            out.push_str(" — |\n");
        } else {
            let _ = writeln!(out, " {wins} of {} |", workloads.len());
        }
    }
    out.push('\n');
    out
}

/// The verdict per workload: which SDK defaults dominate the crate's.
pub fn verdicts(workloads: &[Workload], results: &[Vec<Summary>]) -> String {
    let mut out = String::from(
        "### Verdicts: SDK defaults that dominate the crate default (fewer polls and lower mean delay)\n\n",
    );
    let mut dominated = 0;
    for (workload, summaries) in workloads.iter().zip(results) {
        let by: Vec<&str> = dominators(summaries, Model::CrateDefault)
            .into_iter()
            .map(Model::short)
            .collect();
        if !by.is_empty() {
            dominated += 1;
        }
        let _ = writeln!(
            out,
            "- {}: {}",
            workload.title(),
            if by.is_empty() {
                "none".to_owned()
            } else {
                by.join(", ")
            }
        );
    }
    let _ = writeln!(
        out,
        "\nThe crate default is dominated on {dominated} of {} workloads.\n",
        workloads.len()
    );
    out
}

/// The targets the default was tuned for, on lognormal durations.
pub fn targets(workloads: &[Workload], results: &[Vec<Summary>]) -> String {
    let mut out = String::from("### Targets (lognormal durations)\n\n");
    for (progress, factor) in [(Progress::Linear, 1.0), (Progress::Noisy, 1.5)] {
        for retry_after in [None, Some(SERVER_RETRY_AFTER)] {
            let Some((_, r)) = find(
                workloads,
                results,
                (Durations::LogNormal, progress, retry_after),
            ) else {
                continue;
            };
            let ours = r[index(Model::CrateDefault)];
            let fixed30 = r[index(Model::AzureGo)];
            let fixed1 = r[index(Model::DotNet)];
            let polls_ok = ours.polls <= factor * fixed30.polls;
            let delay_ok = ours.mean_delay <= factor * 2.0 * fixed1.mean_delay;
            let hint = match retry_after {
                None => "no Retry-After".to_owned(),
                Some(s) => format!("Retry-After: {s}"),
            };
            let verdict = |ok: bool| if ok { "holds" } else { "missed" };
            let _ = writeln!(
                out,
                "- {} · {hint}: {:.2} polls/job vs {factor}× Azure Go's {:.2} → {}; \
                 mean delay {:.2} s vs {factor}× 2× .NET's {:.2} s → {}",
                progress.label(),
                ours.polls,
                factor * fixed30.polls,
                verdict(polls_ok),
                ours.mean_delay,
                factor * 2.0 * fixed1.mean_delay,
                verdict(delay_ok),
            );
        }
    }
    out.push('\n');
    out
}

/// Every workload's table, for `docs/polling-efficiency.md`.
pub fn full(jobs: usize, workloads: &[Workload], results: &[Vec<Summary>]) -> String {
    let mut out = String::from(
        "# Polling efficiency: the full tables\n\n\
         Written by `cargo run --release --example policy_sim --features test-util -- --write docs`; \
         do not edit by hand. Each SDK model cites the source file and function it follows \
         (`examples/policy_sim/models.rs`).\n\n",
    );
    out.push_str(&setup(jobs));
    out.push_str("\n![polls per job against mean delay](polling-efficiency.svg)\n\n");
    out.push_str(&summary(jobs, workloads, results).replacen(&setup(jobs), "", 1));
    out.push_str(&verdicts(workloads, results));
    out.push_str(&targets(workloads, results));
    out.push_str("## Every workload\n\n");
    for (workload, summaries) in workloads.iter().zip(results) {
        let _ = writeln!(out, "### {}\n", workload.title());
        out.push_str("| policy | polls/job | mean delay (s) | p95 delay (s) |\n");
        out.push_str("| --- | ---: | ---: | ---: |\n");
        for (model, s) in Model::ALL.iter().zip(summaries) {
            let gave_up = if s.gave_up > 0 {
                format!(" ({} gave up)", s.gave_up)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {}{gave_up} | {:.2} | {:.2} | {:.2} |",
                model.label(),
                s.polls,
                s.mean_delay,
                s.p95_delay
            );
        }
        out.push_str("| oracle (one poll at completion) | 1.00 | 0.00 | 0.00 |\n");
        let by: Vec<&str> = dominators(summaries, Model::CrateDefault)
            .into_iter()
            .map(Model::short)
            .collect();
        let _ = writeln!(
            out,
            "\nDefault dominated by: {}.\n",
            if by.is_empty() {
                "none".to_owned()
            } else {
                by.join(", ")
            }
        );
    }
    out
}
