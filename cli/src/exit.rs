//! The exit status of a run.

use std::process::ExitCode;

/// The exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The job succeeded.
    Success = 0,
    /// The job failed or was canceled.
    JobFailed = 1,
    /// Anything else went wrong (including Ctrl-C): the job may still be
    /// running.
    Error = 2,
    /// The command line was wrong.
    Usage = 64,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}
