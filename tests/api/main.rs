//! One integration binary: port conformance suites (embedded and moto), the local server's API,
//! and the checks that keep the template, the server and the OpenAPI document in step.

mod bad_input;
mod booking_types_api;
mod durability;
mod events_conformance;
mod lambda_events;
mod logs_without_patient_data;
mod messages_conformance;
mod route_parity;
mod scheduled_changes;
mod scheduler_conformance;
mod store_conformance;
mod tenancy;
