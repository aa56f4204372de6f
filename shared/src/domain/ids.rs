//! Generated identifiers: UUIDs, parsed from paths with the parameter named on failure.

/// Declares a UUID identifier type.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a freshly generated id.
            pub fn generated(value: String) -> Self {
                Self(value)
            }

            /// A new random id.
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// Parses an id sent by a client (a UUID).
            pub fn parse(field: &str, value: &str) -> Result<Self, $crate::domain::validation::FieldError> {
                uuid::Uuid::try_parse(value)
                    .map(|_| Self(value.to_ascii_lowercase()))
                    .map_err(|_| $crate::domain::validation::FieldError::new(field, concat!("is not a ", $what, " id")))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use uuid_id;
