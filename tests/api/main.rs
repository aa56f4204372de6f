//! One integration binary: port conformance suites (embedded and moto), the local server's API,
//! and the checks that keep the template, the server and the OpenAPI document in step.

mod admin_reads;
mod appointment_lifecycle;
mod bad_input;
mod booking_links;
mod booking_pages;
mod booking_types_api;
mod connect_on_aws;
mod contested_booking;
mod document_examples;
mod durability;
mod events_conformance;
mod lambda_events;
mod lifecycle_on_aws;
mod messages_conformance;
mod online_services;
mod partner_booking;
mod patient_connect;
mod patient_pages;
mod portal_pages;
mod publication;
mod publication_timetable;
mod rate_limit;
mod referrals;
mod route_parity;
mod scheduled_changes;
mod scheduler_conformance;
mod self_booking;
mod store_conformance;
mod tenancy;
mod waitlist;
