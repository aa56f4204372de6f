//! Booking links (seed 003): staff text a patient a single-use secure link under a broadcast
//! rule; the patient books on the link's pages, gets a confirmation SMS with a manage link, and
//! may reschedule after verifying their date of birth.
//!
//! - `admin`: broadcast rules, sending, expiring and deleting links, a patient's link history,
//!   a provider's staff inbox (JSON, admin token).
//! - `tokens`: drawing tokens and finding a link by one; only hashes are stored.
//! - `offer`: the slots a rule offers, and booking or rescheduling through a link, each one
//!   transaction with the link's version-checked update.
//! - `pages` (shared page parts, also used by the appointment manage pages), `link_pages`
//!   (`/links/{token}`): HTML in English and French that works without JavaScript. The manage
//!   link every appointment gets lives with the appointment lifecycle.

pub mod admin;
pub mod link_pages;
pub mod offer;
pub mod pages;
pub mod tokens;
