//! What can be wrong with a waiter definition.

/// A waiter definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaiterError {
    /// A path expression that does not compile.
    #[error("invalid JMESPath expression {path:?}: {reason}")]
    Path {
        /// The expression as written.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// A definition that is not what the `smithy.waiters#waitable` trait allows.
    #[error("invalid waiter definition: {reason}")]
    Definition {
        /// What is wrong, naming the waiter when known.
        reason: String,
    },
    /// No waiter has this name.
    #[error("no waiter named {name:?} (known: {})", known.join(", "))]
    UnknownWaiter {
        /// The name asked for.
        name: String,
        /// The names there are, sorted.
        known: Vec<String>,
    },
}

impl WaiterError {
    pub(super) fn definition(error: serde_json::Error) -> WaiterError {
        WaiterError::Definition {
            reason: error.to_string(),
        }
    }
}
