//! Rows "start": each failure on a start request that is safe to repeat
//! (`PUT`) and on one that is not (`POST` without an idempotency key: never
//! repeated silently).

/// `PUT`: sent again after a transient failure.
mod safe {
    use crate::{Column, Row};

    row!(Row::StartSafe);
}

/// `POST`: sent once, whatever the failure.
mod not_safe {
    use crate::{Column, Row};

    row!(Row::StartUnsafe);
}
