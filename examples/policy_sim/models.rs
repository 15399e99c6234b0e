//! The policies compared: the crate's default, its 0.1 default, and each peer
//! SDK's default as its source does it (file and function cited).
//!
//! Every model runs on the crate's own `Operation` with the same 24-hour
//! deadline. The SDK models have no floor (`with_min_interval(ZERO)`): the
//! SDKs that have one (Azure Go refuses a frequency under 1 s, azure_core
//! asserts it) never go under it with these settings anyway, and the
//! simulated servers never send `Retry-After: 0`.

use std::time::Duration;

use lro_poller::policy::{
    ConstantBuilder, ExponentialBuilder, Jitter, PollPolicy, RetryAfterMode, SmithyBuilder,
};

/// A policy in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    CrateDefault,
    OldDefault,
    AzureCoreRust,
    AzureGo,
    AzurePython,
    DotNet,
    GoogleLro,
    SmithySpec,
    SmithyAws15,
}

impl Model {
    pub const ALL: [Model; 9] = [
        Model::CrateDefault,
        Model::OldDefault,
        Model::AzureCoreRust,
        Model::AzureGo,
        Model::AzurePython,
        Model::DotNet,
        Model::GoogleLro,
        Model::SmithySpec,
        Model::SmithyAws15,
    ];

    /// The peer SDKs' defaults: the ones the verdict compares against.
    pub const SDKS: [Model; 7] = [
        Model::AzureCoreRust,
        Model::AzureGo,
        Model::AzurePython,
        Model::DotNet,
        Model::GoogleLro,
        Model::SmithySpec,
        Model::SmithyAws15,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Model::CrateDefault => "crate default (progress-aware)",
            Model::OldDefault => "crate 0.1 default (exp 1 s ×1.5 ≤ 30 s, equal jitter)",
            Model::AzureCoreRust => "azure_core (Rust): 30 s, first poll after 30 s or Retry-After",
            Model::AzureGo => "azcore (Go): at once, then 30 s or Retry-After",
            Model::AzurePython => "azure-core (Python): at once, then 30 s or Retry-After",
            Model::DotNet => "Azure.Core (.NET): at once, then max(1 s, Retry-After)",
            Model::GoogleLro => "google-cloud-lro (Rust): 1 s, then 2 s ×2 ≤ 60 s",
            Model::SmithySpec => "Smithy waiter, spec defaults (2–120 s)",
            Model::SmithyAws15 => "Smithy waiter, AWS-typical (15–120 s)",
        }
    }

    /// A short name for the picture's legend.
    pub fn short(self) -> &'static str {
        match self {
            Model::CrateDefault => "crate default",
            Model::OldDefault => "crate 0.1",
            Model::AzureCoreRust => "azure_core (Rust)",
            Model::AzureGo => "Azure Go",
            Model::AzurePython => "Azure Python",
            Model::DotNet => "Azure .NET",
            Model::GoogleLro => "google-cloud-lro",
            Model::SmithySpec => "Smithy 2–120 s",
            Model::SmithyAws15 => "Smithy 15–120 s",
        }
    }

    /// Whether the model reads the `Retry-After` of the start response. The
    /// simulated service leaves it out of the start answer for the models
    /// that do not.
    pub fn reads_start_retry_after(self) -> bool {
        !matches!(self, Model::AzurePython)
    }

    /// The policy for one job. Jitter and Smithy's draws come from the
    /// thread's generator, seeded by the caller for reproducible runs.
    pub fn policy(self, deadline: Duration) -> PollPolicy {
        let secs = Duration::from_secs;
        let policy = match self {
            Model::CrateDefault => return PollPolicy::default().with_deadline(deadline),
            Model::OldDefault => PollPolicy::new(
                ExponentialBuilder::new(secs(1), 1.5, secs(30)).with_jitter(Jitter::Equal),
            ),
            // sdk/core/azure_core/src/http/poller.rs (azure-sdk-for-rust),
            // `create_poller_stream`: the start request is the poller's first
            // request; after it and after every in-progress answer it sleeps
            // `retry_after` = `get_retry_after`: the answer's Retry-After
            // (any value, 0 included), else `PollerOptions::frequency`
            // (`DEFAULT_RETRY_TIME`, 30 s). So the first poll comes 30 s (or
            // the start's Retry-After) after the start.
            Model::AzureCoreRust => PollPolicy::new(ConstantBuilder::new(secs(30)))
                .with_initial_delay(secs(30))
                .with_retry_after(RetryAfterMode::Replace),
            // sdk/azcore/runtime/poller.go (azure-sdk-for-go),
            // `Poller[T].PollUntilDone`: waits the start response's
            // Retry-After when it is > 0, polls at once, then after each
            // answer waits its Retry-After when > 0, else `Frequency`
            // (default 30 s; under 1 s is refused).
            Model::AzureGo => PollPolicy::new(ConstantBuilder::new(secs(30)))
                .with_retry_after(RetryAfterMode::Replace),
            // sdk/core/azure-core/azure/core/polling/base_polling.py
            // (azure-sdk-for-python), `LROBasePolling._poll`: polls at once
            // (the start's Retry-After is not read), then `_delay` →
            // `_extract_delay`: the answer's Retry-After when truthy, else
            // `self._timeout` (polling_interval, 30 s).
            Model::AzurePython => PollPolicy::new(ConstantBuilder::new(secs(30)))
                .with_retry_after(RetryAfterMode::Replace),
            // sdk/core/Azure.Core/src/Shared/OperationPoller.cs
            // (azure-sdk-for-net), `OperationPoller.WaitForCompletionAsync`:
            // polls at once, then waits `FixedDelayWithNoJitterStrategy`'s
            // delay (1 s, `OperationInternalBase.DefaultPollingInterval`), the
            // larger of it and the server's Retry-After (`DelayStrategy.Max`).
            Model::DotNet => PollPolicy::new(ConstantBuilder::new(secs(1)))
                .with_retry_after(RetryAfterMode::Floor),
            // src/lro/src/lib.rs (google-cloud-rust), `until_done`: the start
            // is the first `poll()`, then `backoff(attempt_count)` before each
            // query; src/gax/src/exponential_backoff.rs,
            // `ExponentialBackoff::delay` with the `Default` (1 s, ×2, 60 s)
            // and no jitter for polling (`wait_period`): 1 s after the start,
            // then 2 s, 4 s, ... 60 s. Retry-After is not read.
            Model::GoogleLro => PollPolicy::new(ExponentialBuilder::new(secs(2), 2.0, secs(60)))
                .with_initial_delay(secs(1))
                .with_retry_after(RetryAfterMode::Ignore),
            // The Smithy waiters spec (smithy.io, additional-specs/waiters,
            // "Waiter retries"); rust-runtime/aws-smithy-runtime/src/client/
            // waiters/backoff.rs (smithy-rs), `Backoff::delay`: the first
            // attempt at once, then random whole seconds in
            // [min, min·2^(n−1)] capped at max, the last wait shortened to
            // fit the maximum wait time (here the deadline). No Retry-After.
            Model::SmithySpec => PollPolicy::new(SmithyBuilder::new(secs(2), secs(120), deadline))
                .with_retry_after(RetryAfterMode::Ignore),
            // Many AWS service models set minDelay to 15 s or more (EC2's
            // InstanceRunning, CloudFormation's StackCreateComplete: 15 s;
            // RDS's DBInstanceAvailable: 30 s).
            Model::SmithyAws15 => {
                PollPolicy::new(SmithyBuilder::new(secs(15), secs(120), deadline))
                    .with_retry_after(RetryAfterMode::Ignore)
            }
        };
        policy
            .with_min_interval(Duration::ZERO)
            .with_deadline(deadline)
    }
}
