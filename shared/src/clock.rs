//! The clock port: the only place the current time comes from.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Tells the current time; injected everywhere so tests and demos can move time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to (tests) or that runs ahead of real time by a settable
/// offset (the local server's fast-forward for demos).
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ManualState>,
}

#[derive(Debug, Clone, Copy)]
enum ManualState {
    Fixed(Timestamp),
    Offset(SignedDuration),
}

impl ManualClock {
    /// A clock frozen at `at`.
    pub fn fixed(at: Timestamp) -> Self {
        Self { state: Mutex::new(ManualState::Fixed(at)) }
    }

    /// A clock that follows real time, shifted by an offset that starts at zero.
    pub fn following_system_time() -> Self {
        Self { state: Mutex::new(ManualState::Offset(SignedDuration::ZERO)) }
    }

    /// Moves the clock forward (or back, for a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = match *state {
            ManualState::Fixed(at) => ManualState::Fixed(at.saturating_add(by).unwrap_or(at)),
            ManualState::Offset(offset) => ManualState::Offset(offset.saturating_add(by)),
        };
    }

    /// How far ahead of real time a following clock runs (`None` for a frozen clock).
    pub fn offset(&self) -> Option<SignedDuration> {
        match *self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) {
            ManualState::Fixed(_) => None,
            ManualState::Offset(offset) => Some(offset),
        }
    }

    /// Sets a frozen clock to `at`.
    pub fn set(&self, at: Timestamp) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = ManualState::Fixed(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let state = *self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match state {
            ManualState::Fixed(at) => at,
            ManualState::Offset(offset) => {
                let now = Timestamp::now();
                now.saturating_add(offset).unwrap_or(now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let start: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let clock = ManualClock::fixed(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(2));
        assert_eq!(clock.now(), "2026-03-29T02:30:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn following_clock_runs_ahead_by_the_offset() {
        let clock = ManualClock::following_system_time();
        clock.advance(SignedDuration::from_hours(24 * 30));
        let ahead = clock.now().duration_since(Timestamp::now());
        assert!(ahead > SignedDuration::from_hours(24 * 29), "offset not applied: {ahead:?}");
    }
}
