//! Randomising delays so that many clients do not poll in step: the
//! [`Jitter`] kinds, and the per-operation random generator that applies them.

use std::time::Duration;

use super::backoff::scale;

/// How to randomise a delay, so that many clients do not poll in step
/// ([`ConstantBuilder::with_jitter`](super::ConstantBuilder::with_jitter),
/// [`ExponentialBuilder::with_jitter`](super::ExponentialBuilder::with_jitter)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay as it is.
    #[default]
    None,
    /// Uniform in `[0, d]`.
    Full,
    /// Uniform in `[d/2, d]`.
    Equal,
    /// Uniform in `[d, 3 × previous]` (the previous delay this backoff gave,
    /// `d` at first): delays wander upwards, up to an exponential backoff's
    /// maximum delay.
    Decorrelated,
}

/// A builder's jitter setting: the kind, and a fixed seed or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct JitterConfig {
    jitter: Jitter,
    seed: Option<u64>,
}

impl JitterConfig {
    pub(crate) fn new(jitter: Jitter, seed: Option<u64>) -> Self {
        JitterConfig { jitter, seed }
    }

    /// No jitter, in a constant.
    pub(crate) const fn new_const() -> Self {
        JitterConfig {
            jitter: Jitter::None,
            seed: None,
        }
    }

    /// One operation's generator: seeded from the thread's generator, so
    /// operations do not poll in step, or from the fixed seed, so every
    /// operation draws the same delays.
    pub(crate) fn start(&self) -> JitterState {
        let rng = match (self.jitter, self.seed) {
            (Jitter::None, _) => fastrand::Rng::with_seed(0),
            (_, Some(seed)) => fastrand::Rng::with_seed(seed),
            (_, None) => fastrand::Rng::new(),
        };
        JitterState {
            jitter: self.jitter,
            rng,
            previous: None,
        }
    }
}

/// One operation's jitter: the generator and the previous delay it gave.
#[derive(Debug, Clone)]
pub(crate) struct JitterState {
    jitter: Jitter,
    rng: fastrand::Rng,
    previous: Option<Duration>,
}

/// What a [`JitterState`] keeps in a token: the generator's state and the
/// previous delay.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedJitter {
    rng: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<Duration>,
}

impl JitterState {
    /// The state to keep in a token.
    pub(crate) fn save(&self) -> SavedJitter {
        SavedJitter {
            rng: self.rng.get_seed(),
            previous: self.previous,
        }
    }

    /// Takes up a saved state.
    pub(crate) fn restore(&mut self, saved: SavedJitter) {
        self.rng.seed(saved.rng);
        self.previous = saved.previous;
    }

    /// `d` randomised, never above `max`.
    pub(crate) fn apply(&mut self, d: Duration, max: Duration) -> Duration {
        let delay = apply_jitter(self.jitter, &mut self.rng, d, self.previous).min(max);
        self.previous = Some(delay);
        delay
    }
}

fn uniform(rng: &mut fastrand::Rng, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    low.saturating_add(scale(high - low, rng.f64())).min(high)
}

/// `d` randomised per `jitter`; `previous` is the last randomised delay.
pub(crate) fn apply_jitter(
    jitter: Jitter,
    rng: &mut fastrand::Rng,
    d: Duration,
    previous: Option<Duration>,
) -> Duration {
    match jitter {
        Jitter::None => d,
        Jitter::Full => uniform(rng, Duration::ZERO, d),
        Jitter::Equal => uniform(rng, d / 2, d),
        Jitter::Decorrelated => {
            let high = previous.unwrap_or(d).saturating_mul(3).max(d);
            uniform(rng, d, high)
        }
    }
}
