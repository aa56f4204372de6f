//! Online services with access rules and patient identification (seed 001).
//!
//! - `admin`: services (booking types, included and excluded providers, access rules).
//! - `pages`: the portal as HTML pages at `/portal/{clinicId}`: identification, then the public
//!   booking pages' steps over the admitted services.
//! - `visits`: what an identification found, kept 30 minutes under a cookie's token.
//! - `portal`: the patient portal's JSON API. The visitor identifies (name, birth date,
//!   contact); they see, and can book, only the services whose rules admit them, and the rules
//!   are checked again when the booking is written. An identified visitor's booking is attached
//!   to their record; otherwise, where the rules allow, it carries provisional details flagged
//!   for staff, who attach it later (`diary::appointments::attach_patient`). No answer says
//!   whether a visitor was identified.

pub mod admin;
pub mod pages;
pub mod portal;
pub mod visits;
