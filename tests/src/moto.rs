//! moto server (one request at a time: see scripts/moto_serial_server.py), started once per test binary on a free loopback port and stopped when the test
//! process exits (a watchdog shell kills it when our pid is gone).

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};

static MOTO: OnceLock<String> = OnceLock::new();

/// The Python of the virtual environment the test command installs moto into.
fn moto_python() -> String {
    if let Ok(path) = std::env::var("MOTO_PYTHON") {
        return path;
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    format!("{home}/.cache/clinic-booking/venv/bin/python")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

// The watchdog shell outlives this function on purpose: it stops moto when the test process exits.
#[allow(clippy::zombie_processes)]
fn start() -> String {
    let python = moto_python();
    assert!(
        std::path::Path::new(&python).exists(),
        "moto's Python not found at {python}: run the README's test command (scripts/test.sh), which installs it, or set MOTO_PYTHON"
    );
    let launcher = crate::repo_root().join("scripts/moto_serial_server.py");
    let port = free_port();
    let watchdog = r#""$0" "$3" 127.0.0.1 "$1" >/dev/null 2>&1 & moto=$!; while kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$moto""#;
    Command::new("sh")
        .arg("-c")
        .arg(watchdog)
        .arg(&python)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(launcher)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not listen on {port} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// The moto endpoint, starting the server on first use.
pub fn endpoint() -> &'static str {
    MOTO.get_or_init(start)
}

/// SDK configuration pointed at moto with test credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-2"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        // One moto serves every test at once, one request at a time: give callers room to wait.
        // Connection attempts are retried; a slow answer is waited for, not retried: moto ignores
        // ClientRequestToken, so a retried transaction that had committed would fail its own
        // conditions (DynamoDB answers such a retry with success).
        .retry_config(RetryConfig::standard().with_max_attempts(10).with_initial_backoff(Duration::from_millis(50)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(600))
                .build(),
        )
        .load()
        .await
}

/// What moto recorded: `ses.Message[]`, `sns.SMS[]` and the rest of its state.
pub async fn recorded() -> serde_json::Value {
    reqwest::get(format!("{}/moto-api/data.json", endpoint()))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto data is JSON")
}

/// A unique resource name for one test.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A fresh S3 bucket in eu-west-2 (path-style client, as moto serves it), with its client.
pub async fn bucket(prefix: &str) -> (aws_sdk_s3::Client, String) {
    let config = sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let bucket = unique(prefix);
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest2)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    (s3, bucket)
}

/// The application over the AWS adapters on moto (DynamoDB in a fresh table, SNS, SES v2 with
/// `example.com` verified, EventBridge Scheduler in a fresh group), the embedded rest, and the
/// demo clinic seeded.
pub struct AwsApp {
    /// The state handlers and the runner use.
    pub state: clinic_shared::app::AppState,
    /// The scheduler client, to read the schedules made.
    pub scheduler: aws_sdk_scheduler::Client,
    /// Where the schedules go.
    pub targets: clinic_shared::scheduler::aws::SchedulerTargets,
    /// The data directory of the embedded parts (removed on drop).
    pub data_dir: tempfile::TempDir,
}

/// Builds an [`AwsApp`] timed by `clock`; `prefix` names its table and schedule group.
pub async fn aws_app(prefix: &str, clock: std::sync::Arc<clinic_shared::clock::ManualClock>) -> AwsApp {
    use std::sync::Arc;

    use clinic_shared::app::{AppState, EmbeddedApp, Settings};
    use clinic_shared::messages::aws::AwsMessages;
    use clinic_shared::scheduler::aws::{AwsScheduler, SchedulerTargets};
    let config = sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = unique(prefix);
    clinic_shared::store::dynamodb::create_table(&dynamodb, &table).await.expect("table");
    let store = Arc::new(clinic_shared::store::dynamodb::DynamoStore::new(dynamodb, table, clock.clone()));
    let scheduler = aws_sdk_scheduler::Client::new(&config);
    let group = unique(&format!("{prefix}-group"));
    scheduler.create_schedule_group().name(&group).send().await.expect("schedule group");
    let targets = SchedulerTargets {
        group,
        runner_arn: "arn:aws:lambda:eu-west-2:123456789012:function:scheduled-runner".into(),
        role_arn: "arn:aws:iam::123456789012:role/scheduler-invoke".into(),
        dead_letter_arn: "arn:aws:sqs:eu-west-2:123456789012:scheduler-dlq".into(),
    };
    let ses = aws_sdk_sesv2::Client::new(&config);
    ses.create_email_identity().email_identity("example.com").send().await.ok();
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let settings = Settings { public_base_url: "https://book.example.com".into(), public_rate_limit: None };
    let embedded = EmbeddedApp::over(store, data_dir.path(), clock.clone(), settings.clone()).expect("adapters");
    let base = &embedded.state;
    let state = AppState {
        store: base.store.clone(),
        messages: Arc::new(AwsMessages::new(aws_sdk_sns::Client::new(&config), ses, "bookings@example.com", None)),
        scheduler: Arc::new(AwsScheduler::new(scheduler.clone(), targets.clone(), clock)),
        events: base.events.clone(),
        clock: base.clock.clone(),
        files: base.files.clone(),
        letters: base.letters.clone(),
        epost: base.epost.clone(),
        settings,
    };
    clinic_shared::local::seed::seed_demo_clinic(&state).await.expect("demo clinic");
    AwsApp { state, scheduler, targets, data_dir }
}
