//! EventBridge PutEvents on the product's custom bus.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::{EventPublisher, PublishError};
use crate::domain::events::{DomainEvent, EVENT_SOURCE};

/// Most entries one PutEvents call takes.
const BATCH: usize = 10;

/// The AWS events adapter.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgePublisher {
    /// Publishes to `bus_name` with a client made at init.
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        Self { client, bus_name: bus_name.into() }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        for batch in events.chunks(BATCH) {
            let mut entries = Vec::with_capacity(batch.len());
            for event in batch {
                let detail = serde_json::to_string(event).map_err(|error| PublishError(error.to_string()))?;
                entries.push(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(event.detail_type())
                        .detail(detail)
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(event.occurred_at.as_second()))
                        .build(),
                );
            }
            let output = self.client.put_events().set_entries(Some(entries)).send().await.map_err(|error| {
                PublishError(aws_sdk_eventbridge::error::DisplayErrorContext(error.into_service_error()).to_string())
            })?;
            if output.failed_entry_count > 0 {
                return Err(PublishError(format!("{} of {} entries refused", output.failed_entry_count, batch.len())));
            }
        }
        Ok(())
    }
}
