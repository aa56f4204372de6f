//! In-process delivery: each published event is handed to the consumer at once, after the write
//! that produced it committed, with a few retries for transient failures.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;

use super::{ConsumeError, EventConsumer, EventPublisher, PublishError};
use crate::domain::events::DomainEvent;

const ATTEMPTS: u32 = 3;

/// The embedded events adapter. The consumer is attached after construction because it needs the
/// application state that holds this publisher.
#[derive(Default)]
pub struct InProcessEvents {
    consumer: OnceLock<Arc<dyn EventConsumer>>,
}

impl InProcessEvents {
    /// A publisher with no consumer yet (events are dropped with a warning until one is attached).
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the consumer; later calls are ignored.
    pub fn attach(&self, consumer: Arc<dyn EventConsumer>) {
        let _ = self.consumer.set(consumer);
    }
}

#[async_trait]
impl EventPublisher for InProcessEvents {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        let Some(consumer) = self.consumer.get() else {
            tracing::warn!(count = events.len(), "no event consumer attached; events dropped");
            return Ok(());
        };
        for event in events {
            let mut attempt = 0;
            loop {
                match consumer.consume(event).await {
                    Ok(()) => break,
                    Err(ConsumeError::Retryable(reason)) if attempt + 1 < ATTEMPTS => {
                        tracing::warn!(event_id = %event.id, %reason, "event consumer failed; retrying");
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                    }
                    Err(error) => return Err(PublishError(format!("event {}: {error}", event.id))),
                }
            }
        }
        Ok(())
    }
}
