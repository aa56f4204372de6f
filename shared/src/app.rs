//! The application state: configuration and adapters, built once at init and passed by
//! reference to every handler.

use std::path::Path;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::domain::rate_limit::RateLimit;
use crate::events::EventPublisher;
use crate::events::aws::EventBridgePublisher;
use crate::events::in_process::InProcessEvents;
use crate::files::ReferralFiles;
use crate::files::embedded::EmbeddedReferralFiles;
use crate::files::letters::{DirectoryLetterFiles, LetterFiles, S3LetterFiles};
use crate::files::s3::S3ReferralFiles;
use crate::messages::Messages;
use crate::messages::aws::AwsMessages;
use crate::messages::epost::{Epost, EpostQueue};
use crate::messages::outbox::Outbox;
use crate::scheduler::Scheduler;
use crate::scheduler::aws::{AwsScheduler, SchedulerTargets};
use crate::scheduler::embedded::EmbeddedScheduler;
use crate::store::Store;
use crate::store::dynamodb::DynamoStore;
use crate::store::embedded::EmbeddedStore;

/// Settings every function reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Base URL of the public site, e.g. `https://book.example.com`, used in links we send.
    pub public_base_url: String,
    /// Limit per client address on public routes (none: unlimited).
    pub public_rate_limit: Option<RateLimit>,
}

/// The public rate limit unless `PUBLIC_RATE_LIMIT` (`capacity/per_second`, or `off`) says otherwise.
pub fn public_rate_limit_from_env() -> Option<RateLimit> {
    match std::env::var("PUBLIC_RATE_LIMIT").ok().as_deref() {
        Some("off") => None,
        Some(raw) => raw.split_once('/').and_then(|(capacity, rate)| {
            Some(RateLimit { capacity: capacity.parse().ok()?, per_second: rate.parse().ok()? })
        }),
        None => Some(DEFAULT_PUBLIC_RATE_LIMIT),
    }
}

/// 60 requests at once, one a second on average, per client address.
pub const DEFAULT_PUBLIC_RATE_LIMIT: RateLimit = RateLimit { capacity: 60.0, per_second: 1.0 };

/// Configuration and adapters shared by every handler.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// SMS and email.
    pub messages: Arc<dyn Messages>,
    /// One-time schedules.
    pub scheduler: Arc<dyn Scheduler>,
    /// Domain events.
    pub events: Arc<dyn EventPublisher>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Referral uploads.
    pub files: Arc<dyn ReferralFiles>,
    /// Patient Connect letters (PDF).
    pub letters: Arc<dyn LetterFiles>,
    /// The ePost provider.
    pub epost: Arc<dyn Epost>,
    /// Settings.
    pub settings: Settings,
}

/// A required setting was missing at init.
#[derive(Debug, thiserror::Error)]
#[error("missing environment variable {0}")]
pub struct MissingSetting(pub &'static str);

fn env(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name).ok().filter(|value| !value.is_empty()).ok_or(MissingSetting(name))
}

impl AppState {
    /// Builds the AWS adapters from the environment. Makes no network call: clients resolve
    /// credentials lazily on first use.
    pub async fn from_aws_env() -> Result<Self, MissingSetting> {
        let config = aws_config::load_from_env().await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store =
            Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), env("TABLE_NAME")?, clock.clone()));
        let messages = Arc::new(AwsMessages::new(
            aws_sdk_sns::Client::new(&config),
            aws_sdk_sesv2::Client::new(&config),
            env("SES_FROM_ADDRESS")?,
            std::env::var("SMS_SENDER_ID").ok().filter(|value| !value.is_empty()),
        ));
        let scheduler = Arc::new(AwsScheduler::new(
            aws_sdk_scheduler::Client::new(&config),
            SchedulerTargets {
                group: env("SCHEDULE_GROUP")?,
                runner_arn: env("RUNNER_FUNCTION_ARN")?,
                role_arn: env("SCHEDULER_ROLE_ARN")?,
                dead_letter_arn: env("SCHEDULER_DLQ_ARN")?,
            },
            clock.clone(),
        ));
        let events =
            Arc::new(EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&config), env("EVENT_BUS_NAME")?));
        let s3 = aws_sdk_s3::Client::new(&config);
        let files = Arc::new(S3ReferralFiles::new(s3.clone(), env("REFERRAL_BUCKET")?));
        let letters = Arc::new(S3LetterFiles::new(s3, env("LETTERS_BUCKET")?));
        let epost = Arc::new(EpostQueue::new(store.clone(), clock.clone()));
        Ok(Self {
            letters,
            epost,
            store,
            messages,
            scheduler,
            events,
            clock,
            files,
            settings: Settings {
                public_base_url: env("PUBLIC_BASE_URL")?,
                public_rate_limit: public_rate_limit_from_env(),
            },
        })
    }
}

/// The embedded adapters, with the two handles the local server drives.
pub struct EmbeddedApp {
    /// The state handlers use.
    pub state: Arc<AppState>,
    /// The scheduler, whose timer the local server runs.
    pub scheduler: Arc<EmbeddedScheduler>,
    /// The in-process event bus, to which the consumer is attached.
    pub events: Arc<InProcessEvents>,
    /// Referral files in the data directory, whose upload route the local server serves.
    pub files: Arc<EmbeddedReferralFiles>,
}

impl EmbeddedApp {
    /// Opens the embedded store in `data_dir` and wires every embedded adapter over it (attach
    /// the event consumers with `features::attach_event_consumers`).
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>, settings: Settings) -> Result<Self, crate::store::StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|error| crate::store::StoreError::Unavailable(error.to_string()))?;
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&data_dir.join("clinic.redb"), clock.clone())?);
        Self::over(store, data_dir, clock, settings)
    }

    /// Wires the embedded messages, scheduler, events and files over any store.
    pub fn over(
        store: Arc<dyn Store>,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Self, crate::store::StoreError> {
        let files = Arc::new(
            EmbeddedReferralFiles::open(data_dir, &settings.public_base_url)
                .map_err(|error| crate::store::StoreError::Unavailable(error.to_string()))?,
        );
        let scheduler = Arc::new(EmbeddedScheduler::new(store.clone(), clock.clone()));
        let events = Arc::new(InProcessEvents::new());
        let messages = Arc::new(Outbox::new(store.clone(), clock.clone()));
        let letters = Arc::new(
            DirectoryLetterFiles::open(data_dir)
                .map_err(|error| crate::store::StoreError::Unavailable(error.to_string()))?,
        );
        let epost = Arc::new(EpostQueue::new(store.clone(), clock.clone()));
        let state = Arc::new(AppState {
            store,
            messages,
            scheduler: scheduler.clone(),
            events: events.clone(),
            clock,
            files: files.clone(),
            letters,
            epost,
            settings,
        });
        Ok(Self { state, scheduler, events, files })
    }
}
