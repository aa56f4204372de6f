//! Booking types: the admin routes, the public catalogue, and the changes both the admin routes
//! and the scheduled runner make.

pub mod admin;
pub mod changes;
pub mod error;
pub mod public;
