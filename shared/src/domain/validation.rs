//! Field-level validation errors and the text rules every input shares.

use serde::Serialize;

/// One rejected field: a JSON-pointer-like path and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a dotted path (`duration_minutes`, `body`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Collects field errors while a whole input is checked, so the answer names every bad field.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// Records the error of a failed check and returns the value of a passed one.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    /// The collected errors, if any.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

/// Trims `value` and checks it holds 1 to `max_chars` characters and no control characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Patient-visible prose an admin may leave out: blank is `None`; else at most `max_chars`
/// characters, line breaks allowed, no other control characters (pages escape it).
pub fn optional_prose(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else { return Ok(None) };
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(Some(value.to_owned()))
}

/// Checks a client-chosen identifier: 1 to 64 characters of `a-z`, `0-9` and `-`.
pub fn slug(field: &str, value: &str) -> Result<String, FieldError> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(field, "must be 1 to 64 characters of a-z, 0-9 and '-'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(required_text("name", "  Flu jab ", 10).unwrap(), "Flu jab");
        assert_eq!(required_text("name", "   ", 10).unwrap_err().message, "must not be empty");
        assert_eq!(required_text("name", "x".repeat(11).as_str(), 10).unwrap_err().field, "name");
        assert!(required_text("name", "a\u{7}b", 10).is_err());
    }

    #[test]
    fn slugs_are_lowercase_ascii() {
        assert!(slug("clinicId", "north-clinic-2").is_ok());
        for bad in ["", "North", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(slug("clinicId", bad).is_err(), "{bad:?} passed");
        }
    }

    proptest! {
        #[test]
        fn accepted_text_is_never_longer_than_the_limit(value in ".{0,80}", max in 1usize..40) {
            if let Ok(text) = required_text("f", &value, max) {
                prop_assert!(text.chars().count() <= max);
                prop_assert!(!text.is_empty());
                prop_assert_eq!(text.trim(), text.as_str());
            }
        }
    }
}
