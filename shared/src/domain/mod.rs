//! Pure domain logic: typed values parsed once at the edge, and the rules over them.
//! Nothing here does I/O or reads the clock.

pub mod access;
pub mod activity;
pub mod audit;
pub mod booking_type;
pub mod clinic;
pub mod contact;
pub mod events;
pub mod jobs;
pub mod validation;
