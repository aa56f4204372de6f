//! The manage link's check: the patient answers with their date of birth; five wrong answers in
//! a row lock the appointment's links until staff help, a right one resets the count. Pure.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How many wrong answers lock a manage link.
pub const MAX_VERIFICATION_FAILURES: u32 = 5;

/// The outcome of one verification attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The answer matched; the failure count is reset.
    Verified,
    /// Wrong; this many attempts are left.
    Wrong {
        /// Attempts left before the link locks.
        remaining: u32,
    },
    /// Too many wrong answers: the patient must phone the clinic.
    Locked,
}

/// An appointment's manage-link state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManageAccess {
    /// Wrong answers in a row.
    pub failures: u32,
}

/// The outcome of one answer, with the counter as it now stands.
pub fn check(access: &mut ManageAccess, expected: Date, answer: Date) -> Verification {
    if access.failures >= MAX_VERIFICATION_FAILURES {
        return Verification::Locked;
    }
    if answer == expected {
        access.failures = 0;
        return Verification::Verified;
    }
    access.failures += 1;
    match MAX_VERIFICATION_FAILURES - access.failures {
        0 => Verification::Locked,
        remaining => Verification::Wrong { remaining },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_answers_lock_and_a_right_one_resets() {
        let born: Date = "1980-05-17".parse().unwrap();
        let wrong: Date = "1980-05-18".parse().unwrap();
        let mut access = ManageAccess::default();
        assert_eq!(check(&mut access, born, wrong), Verification::Wrong { remaining: 4 });
        assert_eq!(check(&mut access, born, born), Verification::Verified);
        assert_eq!(access.failures, 0);
        for remaining in (1..=4).rev() {
            assert_eq!(check(&mut access, born, wrong), Verification::Wrong { remaining });
        }
        assert_eq!(check(&mut access, born, wrong), Verification::Locked);
        assert_eq!(check(&mut access, born, born), Verification::Locked, "locked stays locked");
    }
}
