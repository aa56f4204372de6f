//! Local mode: every route on 127.0.0.1, served by the same handlers the Lambdas run, over the
//! embedded store, the outbox, the in-process scheduler and the in-process event bus.

pub mod gateway;
pub mod jwt;
pub mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::app::{EmbeddedApp, Settings};
use crate::clock::ManualClock;
use crate::features::runner::AppRunner;

/// How the local server is started.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Where the database and the signing key live.
    pub data_dir: PathBuf,
    /// Delete the data first.
    pub reset: bool,
    /// How often the in-process scheduler looks for due jobs.
    pub scheduler_tick: Duration,
    /// Limit per client address on public routes (`PUBLIC_RATE_LIMIT`).
    pub public_rate_limit: Option<crate::domain::rate_limit::RateLimit>,
}

impl LocalOptions {
    /// Reads `PORT` (default 3000) and `DATA_DIR` (default `.data`).
    pub fn from_env(reset: bool) -> Result<Self, String> {
        let port = match std::env::var("PORT") {
            Ok(raw) => raw.parse().map_err(|_| format!("PORT must be a port number, not {raw:?}"))?,
            Err(_) => 3000,
        };
        let data_dir = std::env::var("DATA_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(".data"));
        Ok(Self {
            port,
            data_dir,
            reset,
            scheduler_tick: Duration::from_millis(500),
            public_rate_limit: crate::app::public_rate_limit_from_env(),
        })
    }
}

/// A running local server.
pub struct LocalServer {
    /// The address it listens on.
    pub address: SocketAddr,
    /// The application it serves.
    pub app: Arc<EmbeddedApp>,
    /// The clock, which `POST /_local/clock` moves forward for demos.
    pub clock: Arc<ManualClock>,
    /// The key admin tokens are signed with.
    pub signing_key: Arc<jwt::SigningKey>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Errors starting the local server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be prepared.
    #[error("data directory: {0}")]
    DataDir(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {cause}")]
    Bind { port: u16, cause: String },
}

/// Where the demo clock's offset is kept in the data directory.
fn clock_offset_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("clock-offset-seconds")
}

/// How far `POST /_local/clock` has moved this data directory's clock (zero when never).
pub fn saved_clock_offset(data_dir: &std::path::Path) -> jiff::SignedDuration {
    std::fs::read_to_string(clock_offset_file(data_dir))
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
        .map_or(jiff::SignedDuration::ZERO, jiff::SignedDuration::from_secs)
}

/// Keeps the demo clock's offset for the next start (and for `clinic-local token`).
pub fn save_clock_offset(data_dir: &std::path::Path, offset: jiff::SignedDuration) -> std::io::Result<()> {
    std::fs::write(clock_offset_file(data_dir), offset.as_secs().to_string())
}

/// Opens the data, seeds the demo clinic on first start, starts the scheduler timer, and serves.
pub async fn start(options: LocalOptions) -> Result<LocalServer, StartError> {
    if options.reset && options.data_dir.exists() {
        std::fs::remove_dir_all(&options.data_dir).map_err(|error| StartError::DataDir(error.to_string()))?;
    }
    std::fs::create_dir_all(&options.data_dir).map_err(|error| StartError::DataDir(error.to_string()))?;
    let clock = Arc::new(ManualClock::following_system_time());
    // The demo clock keeps the time it was moved to across restarts (a link that expired at the
    // moved time must not become bookable again).
    clock.advance(saved_clock_offset(&options.data_dir));
    let store =
        Arc::new(crate::store::embedded::EmbeddedStore::open(&options.data_dir.join("clinic.redb"), clock.clone())?);
    start_over(options, store, clock).await
}

/// Serves over a given store (the embedded one, or DynamoDB for tests against an emulator),
/// with the embedded messages, scheduler and events.
pub async fn start_over(
    options: LocalOptions,
    store: Arc<dyn crate::store::Store>,
    clock: Arc<ManualClock>,
) -> Result<LocalServer, StartError> {
    std::fs::create_dir_all(&options.data_dir).map_err(|error| StartError::DataDir(error.to_string()))?;
    let signing_key = Arc::new(jwt::SigningKey::load_or_create(&options.data_dir).map_err(StartError::DataDir)?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|error| StartError::Bind { port: options.port, cause: error.to_string() })?;
    let address =
        listener.local_addr().map_err(|error| StartError::Bind { port: options.port, cause: error.to_string() })?;
    let settings =
        Settings { public_base_url: format!("http://{address}"), public_rate_limit: options.public_rate_limit };
    let app = Arc::new(EmbeddedApp::over(store, &options.data_dir, clock.clone(), settings)?);
    crate::features::attach_event_consumers(&app);
    seed::seed_demo_clinic(&app.state).await?;
    let timer =
        tokio::spawn(app.scheduler.clone().run_timer(Arc::new(AppRunner(app.state.clone())), options.scheduler_tick));
    let sweeper = tokio::spawn(sweep_messages(app.state.clone(), Duration::from_secs(60)));
    let router = gateway::router(gateway::Gateway {
        app: app.clone(),
        clock: clock.clone(),
        signing_key: signing_key.clone(),
        data_dir: options.data_dir.clone(),
    });
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "local server stopped");
        }
    });
    Ok(LocalServer { address, app, clock, signing_key, tasks: vec![timer, sweeper, server] })
}

/// Locally, what the five-minute sweeper schedule does on AWS: queued messages whose schedule
/// was lost are scheduled again, and every waitlist is scanned.
async fn sweep_messages(state: Arc<crate::app::AppState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(error) = crate::features::appointment_lifecycle::delivery::sweep(&state).await {
            tracing::error!(%error, "message sweep failed");
        }
        if let Err(error) = crate::features::waitlist::sweep(&state).await {
            tracing::error!(%error, "waitlist sweep failed");
        }
    }
}
