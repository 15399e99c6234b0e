//! What a waiter read from one answer: the [`Attempt`] every status it
//! yields carries.

use serde::Serialize;

use super::acceptor::AcceptorState;

/// What a waiter read from one answer; every status it yields carries one
/// (read it with [`AsyncJobStatus::details`](crate::AsyncJobStatus::details)).
///
/// ```
/// # use lro_poller::waiter::Attempt;
/// # fn show(status: &lro_poller::AsyncJobStatus) {
/// if let Some(attempt) = status.details::<Attempt>() {
///     match attempt.acceptor {
///         Some(index) => println!("acceptor #{index} matched: {}", attempt.state),
///         None => println!("no acceptor matched: {}", attempt.state),
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Attempt {
    /// The waiter's name, when it was given one.
    pub waiter: Option<String>,
    /// Where the waiter goes after this answer.
    pub state: AcceptorState,
    /// The position of the acceptor that matched; `None` when none did.
    pub acceptor: Option<usize>,
    /// The answer's error type, when it was an error answer.
    pub error_type: Option<String>,
    /// The matching acceptor's message, when it has one.
    pub message: Option<String>,
    /// The answer's HTTP status code.
    pub http_status: u16,
}
