//! Policies: the small value types that say *how* the engine behaves — backoff between
//! attempts, connection rates, breaker thresholds — and the one retry loop that every retried
//! thing in drover goes through (connection attempts, task `retries`/`until`, MQTT publishes).
//! They sit below the engine and the transports, so settings, outcomes, the breaker store and
//! a transport can use them without importing the engine.

pub mod backoff;
pub mod breaker;
pub mod rate;
pub mod retry;

pub use backoff::{fresh_seed, jitter_source, Backoff};
pub use breaker::{BreakerPolicy, BreakerState};
pub use rate::Rate;
pub use retry::{retry, Next, Retried, Retrier, RetryPolicy, Step};
