//! Clinic online booking: the domain, its ports and adapters, and the HTTP glue that every
//! Lambda function and the local server share.
//!
//! - [`domain`] is pure: no I/O and no clock reads; time is passed in.
//! - [`store`], [`messages`], [`scheduler`], [`events`] and [`clock`] are the ports, each with an
//!   AWS adapter and an embedded adapter.
//! - [`features`] holds one handler module per route family; [`http`] maps requests and errors.
//! - [`routes`] is the route table; [`router`] serves a request from it; [`openapi`] describes it.
//! - [`local`] runs every route on 127.0.0.1 with the embedded adapters.

pub mod app;
pub mod clock;
pub mod domain;
pub mod events;
pub mod features;
pub mod files;
pub mod http;
pub mod lambda;
pub mod local;
pub mod messages;
pub mod openapi;
pub mod router;
pub mod routes;
pub mod scheduler;
pub mod store;
pub mod telemetry;
