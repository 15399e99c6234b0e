//! Human output: a progress bar (or status lines) on stderr, one final line
//! on stdout.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lro_poller::AsyncJobStatus;

use crate::json::outcome_word;

/// The final line for a job that ended.
pub fn human_outcome(status: &AsyncJobStatus, resource_id: Option<&str>) -> String {
    let mut line = outcome_word(&status.status).to_owned();
    if !status.status.is_success() {
        if let Some(summary) = status.failure_summary() {
            line.push_str(": ");
            line.push_str(&summary);
        }
    }
    if let Some(id) = resource_id {
        line.push_str(if status.status.is_success() {
            ": "
        } else {
            "; "
        });
        line.push_str("resource id ");
        line.push_str(id);
    }
    line
}

/// Human output: a progress bar on a terminal, else a line per change.
pub struct Human {
    bar: Option<ProgressBar>,
    last: Option<String>,
}

impl Human {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {wide_msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Human { bar, last: None }
    }

    /// No progress bar (for `cancel`, which reports no status).
    pub fn quiet() -> Self {
        Human {
            bar: None,
            last: None,
        }
    }

    pub fn status(&mut self, status: &AsyncJobStatus) {
        let mut text = status.status.to_string();
        if let Some(description) = &status.status_description {
            text.push_str(": ");
            text.push_str(description);
        }
        match &self.bar {
            Some(bar) => {
                if let Some(percentage) = status.percentage_complete {
                    // `as` saturates; the value is finite and clamped anyway.
                    bar.set_position(percentage.clamp(0.0, 100.0).round() as u64);
                }
                bar.set_message(text);
            }
            None => {
                if let Some(percentage) = status.percentage_complete {
                    text = format!("{text} {percentage}%");
                }
                if self.last.as_ref() != Some(&text) {
                    eprintln!("{text}");
                    self.last = Some(text);
                }
            }
        }
    }

    /// A line of its own on stderr, above the progress bar if there is one.
    pub fn note(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
