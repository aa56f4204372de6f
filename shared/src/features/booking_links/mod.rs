//! Booking links (seed 003): staff text a patient a single-use secure link under a broadcast
//! rule; the patient books on the link's pages, gets a confirmation SMS with a manage link, and
//! may reschedule after verifying their date of birth.
//!
//! - `admin`: broadcast rules, sending, expiring and deleting links, a patient's link history,
//!   a provider's staff inbox (JSON, admin token).
//! - `tokens`: drawing tokens and finding a link by one; only hashes are stored.
//! - `offer`: the slots a rule offers, and booking or rescheduling through a link, each one
//!   transaction with the link's version-checked update.
//! - `pages` (shared page parts), `link_pages` (`/links/{token}`), `manage_pages`
//!   (`/manage/{token}`): HTML in English and French that works without JavaScript.

pub mod admin;
pub mod link_pages;
pub mod manage_pages;
pub mod offer;
pub mod pages;
pub mod tokens;
