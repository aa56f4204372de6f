//! Online self-booking: patients choose a booking type, a provider (or any), a location (or
//! any) and a time (or ASAP), give their details and book; as JSON and as HTML pages.

pub mod api;
pub mod offer;
pub mod page_texts;
pub mod pages;
