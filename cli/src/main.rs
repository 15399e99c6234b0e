//! `lro`: wait on an HTTP long-running operation from the command line.
//!
//! `lro start URL` sends the initial request and follows the operation it
//! starts (with `--no-wait`, prints its resume token once it has started);
//! `lro watch MONITOR_URL` follows one that is already running; `lro resume
//! TOKEN` follows one from a resume token; `lro cancel TOKEN` asks the service
//! to cancel one; `lro wait URL --waiter FILE --name NAME` re-sends a request
//! until a Smithy waiter's acceptors decide. Each waiting subcommand turns its arguments into an
//! [`lro_poller::OperationBuilder`]; everything after that (policy, output,
//! exit code) is shared, so a new subcommand only has to say how its
//! operation begins.

mod args;
mod errors;
mod exit;
mod human;
mod json;
mod redact;
mod report;
mod retries;
mod run;
mod settings;
mod transport;
mod usage;
mod wait;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use args::Cli;
use exit::Exit;
use usage::UsageError;

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    // Usage errors are reported as JSON too when the user asked for JSON.
    let json = raw
        .iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json");
    let cli = match Cli::try_parse_from(&raw) {
        Ok(cli) => cli,
        Err(error) => return parse_failure(&error, &raw, json),
    };
    let code = match run::run(cli) {
        Ok(exit) => exit,
        Err(usage) => {
            usage.report(json);
            Exit::Usage
        }
    };
    code.into()
}

/// `--help` and `--version` succeed; every other parse failure is a usage
/// error (64). The message never shows a URL's query or user info.
fn parse_failure(error: &clap::Error, raw: &[String], json: bool) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            print!("{}", error.render());
            Exit::Success.into()
        }
        _ => {
            let text = args::scrub(&error.render().to_string(), raw);
            UsageError::rendered(text.trim_end()).report(json);
            Exit::Usage.into()
        }
    }
}
