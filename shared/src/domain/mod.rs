//! Pure domain logic: typed values parsed once at the edge, and the rules over them.
//! Nothing here does I/O or reads the clock.

pub mod access;
pub mod activity;
pub mod appointment;
pub mod appointment_message;
pub mod audit;
pub mod availability;
pub mod booking_link;
pub mod booking_type;
pub mod clinic;
pub mod contact;
pub mod diary;
pub mod eligibility;
pub mod enrollment;
pub mod events;
pub mod ids;
pub mod jobs;
pub mod letter;
pub mod letter_pdf;
pub mod location;
pub mod logo;
pub mod manage_access;
pub mod message_template;
pub mod online_service;
pub mod online_settings;
pub mod partner;
pub mod patient;
pub mod patient_connect;
pub mod provider;
pub mod publication;
pub mod rate_limit;
pub mod referral;
pub mod statistics;
pub mod validation;
pub mod waitlist;
