//! The diary: templates and blocks (admin), appointments and the claims that keep every
//! provider's time single-booked (shared by patients' and staff's bookings).

pub mod appointments;
pub mod booking;
pub mod private_offer;
pub mod schedule;
pub mod slots;
