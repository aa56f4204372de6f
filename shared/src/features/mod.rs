//! One module per route family; each handler parses its input once, calls the domain, and
//! writes through the ports.

pub mod activity;
pub mod audit_trail;
pub mod booking_types;
pub mod clinics;
pub mod meta;
pub mod runner;
