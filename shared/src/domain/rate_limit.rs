//! Token buckets: a client may make `capacity` requests at once and `per_second` on average.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A rate limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Burst size.
    pub capacity: f64,
    /// Refill rate.
    pub per_second: f64,
}

/// One client's bucket as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Tokens left.
    pub tokens: f64,
    /// When `tokens` was computed.
    pub updated_at: Timestamp,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(limit: RateLimit, now: Timestamp) -> Self {
        Self { tokens: limit.capacity, updated_at: now }
    }

    /// Takes one token at `now`: the bucket after, or the whole seconds to wait.
    pub fn take(self, limit: RateLimit, now: Timestamp) -> Result<Self, u64> {
        let elapsed = now.duration_since(self.updated_at).as_secs_f64().max(0.0);
        let tokens = (self.tokens + elapsed * limit.per_second).min(limit.capacity);
        if tokens >= 1.0 {
            Ok(Self { tokens: tokens - 1.0, updated_at: now })
        } else {
            Err(((1.0 - tokens) / limit.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMIT: RateLimit = RateLimit { capacity: 3.0, per_second: 0.5 };

    #[test]
    fn a_burst_is_allowed_then_refused_until_refilled() {
        let start: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let mut bucket = TokenBucket::full(LIMIT, start);
        for _ in 0..3 {
            bucket = bucket.take(LIMIT, start).unwrap();
        }
        assert_eq!(bucket.take(LIMIT, start), Err(2));
        let later = start + jiff::SignedDuration::from_secs(2);
        assert!(bucket.take(LIMIT, later).is_ok());
    }

    proptest! {
        #[test]
        fn no_client_gets_more_than_the_burst_plus_the_refill(gaps in proptest::collection::vec(0i64..5_000, 1..200)) {
            let start: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
            let mut bucket = TokenBucket::full(LIMIT, start);
            let mut now = start;
            let mut allowed = 0u32;
            for gap in gaps {
                now += jiff::SignedDuration::from_millis(gap);
                if let Ok(next) = bucket.take(LIMIT, now) {
                    bucket = next;
                    allowed += 1;
                }
            }
            let elapsed = now.duration_since(start).as_secs_f64();
            prop_assert!(f64::from(allowed) <= LIMIT.capacity + elapsed * LIMIT.per_second + 1e-9);
        }
    }
}
