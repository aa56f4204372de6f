//! The domain-events port: EventBridge PutEvents on the product's bus, or in-process delivery to
//! the same consumer code locally.

pub mod aws;
pub mod in_process;

use async_trait::async_trait;

use crate::domain::events::DomainEvent;

/// Why events could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events not published: {0}")]
pub struct PublishError(pub String);

/// Why a consumer failed an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    /// Worth delivering again.
    #[error("retryable: {0}")]
    Retryable(String),
    /// The event cannot be processed.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The publishing side.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes events in order; succeeds only when every event was accepted.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError>;
}

/// The consuming side: the event-consumer Lambda on AWS, the same code locally. Deliveries may
/// repeat; consumers drop duplicates by event id.
#[async_trait]
pub trait EventConsumer: Send + Sync {
    /// Handles one event.
    async fn consume(&self, event: &DomainEvent) -> Result<(), ConsumeError>;
}

/// Several consumers behind one: each event goes to every consumer in turn. A failure stops
/// the event so it is delivered again; each consumer drops what it already applied.
pub struct Consumers(pub Vec<std::sync::Arc<dyn EventConsumer>>);

#[async_trait]
impl EventConsumer for Consumers {
    async fn consume(&self, event: &DomainEvent) -> Result<(), ConsumeError> {
        for consumer in &self.0 {
            consumer.consume(event).await?;
        }
        Ok(())
    }
}
