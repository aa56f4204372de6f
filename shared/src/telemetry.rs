//! Logging set-up: `tracing` JSON lines with request ids. Handlers log ids and outcomes, never
//! request bodies or patient data.

/// For Lambda functions: honours `AWS_LAMBDA_LOG_FORMAT=JSON` and `AWS_LAMBDA_LOG_LEVEL`.
pub fn init_lambda() {
    lambda_http::tracing::init_default_subscriber();
}

/// For the local server: JSON lines on stdout, level from `RUST_LOG` (default `info`).
pub fn init_local() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().json().with_current_span(true).with_env_filter(filter).try_init();
}
