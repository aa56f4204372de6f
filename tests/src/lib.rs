//! The test harness: a moto server per test binary, fresh embedded or moto-backed adapters per
//! test, and a local server on a free port with its own data directory.

pub mod contract;
pub mod moto;
pub mod sim;

use std::path::Path;
use std::sync::Arc;

use clinic_shared::clock::ManualClock;
use clinic_shared::domain::access::Permission;
use clinic_shared::local::{self, LocalOptions, LocalServer};

/// A fixed starting time for tests that freeze the clock.
pub const TEST_START: &str = "2026-11-22T10:00:00Z";

/// The repository root (for `infra/` and `events/`).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the repository")
}

/// A frozen clock at [`TEST_START`].
pub fn frozen_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::fixed(TEST_START.parse().expect("valid test start")))
}

/// A local server on a free port over a fresh data directory, with a client for it.
pub struct TestApp {
    /// The server.
    pub server: LocalServer,
    /// Its base URL.
    pub base: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The data directory (removed on drop).
    pub data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server over a fresh data directory, without a public rate limit.
    pub async fn spawn() -> Self {
        Self::spawn_with(None).await
    }

    /// Starts a server over a fresh data directory with a public rate limit.
    pub async fn spawn_with(limit: Option<clinic_shared::domain::rate_limit::RateLimit>) -> Self {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let server = local::start(options(data_dir.path(), false, limit)).await.expect("local server starts");
        Self::around(server, data_dir)
    }

    /// Starts a server over a fresh data directory and also hands back its embedded store, for
    /// tests that inspect everything stored.
    pub async fn spawn_with_store() -> (Self, Arc<clinic_shared::store::embedded::EmbeddedStore>) {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let clock = Arc::new(ManualClock::following_system_time());
        let store = Arc::new(
            clinic_shared::store::embedded::EmbeddedStore::open(&data_dir.path().join("clinic.redb"), clock.clone())
                .expect("store opens"),
        );
        let server = local::start_over(options(data_dir.path(), false, None), store.clone(), clock)
            .await
            .expect("local server starts");
        (Self::around(server, data_dir), store)
    }

    /// Starts a server whose store is DynamoDB on moto (a fresh table).
    pub async fn spawn_on_moto() -> Self {
        let config = moto::sdk_config().await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        let table = moto::unique("app");
        clinic_shared::store::dynamodb::create_table(&client, &table).await.expect("table");
        let clock = Arc::new(ManualClock::following_system_time());
        let store = Arc::new(clinic_shared::store::dynamodb::DynamoStore::new(client, table, clock.clone()));
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let server =
            local::start_over(options(data_dir.path(), false, None), store, clock).await.expect("local server starts");
        Self::around(server, data_dir)
    }

    /// Wraps a started server.
    pub fn around(server: LocalServer, data_dir: tempfile::TempDir) -> Self {
        let base = format!("http://{}", server.address);
        Self { server, base, client: reqwest::Client::new(), data_dir }
    }

    /// An admin token for `clinics` with `permissions`.
    pub fn token(&self, subject: &str, clinics: &[&str], permissions: &[Permission]) -> String {
        let now = jiff::Timestamp::now().as_second();
        self.server.signing_key.mint(subject, clinics, permissions, now, 1).expect("token")
    }

    /// A token for a partner's own user of the demo clinic: it acts for `partner` only.
    pub fn partner_user_token(&self, subject: &str, partner: &str) -> String {
        let now = jiff::Timestamp::now().as_second();
        self.server
            .signing_key
            .mint_for_partner(subject, &["demo"], &[Permission::PartnerBook], partner, now, 1)
            .expect("token")
    }

    /// A token for the demo clinic with every permission.
    pub fn demo_admin(&self) -> String {
        self.token("staff-demo", &["demo"], &Permission::ALL)
    }

    /// The demo clinic's booking types, providers and locations, by name.
    pub async fn demo_ids(&self, token: &str) -> DemoIds {
        let list = |path: &'static str| async move {
            self.get(&format!("/admin/clinics/demo/{path}?limit=100"), Some(token)).await.body
        };
        let (types, providers, locations) =
            (list("booking-types").await, list("providers").await, list("locations").await);
        let id = |list: &serde_json::Value, field: &str, name: &str| -> String {
            list["items"]
                .as_array()
                .and_then(|items| items.iter().find(|item| item[field] == name))
                .and_then(|item| item["id"].as_str())
                .unwrap_or_else(|| panic!("the demo clinic has no {name}"))
                .to_owned()
        };
        DemoIds {
            gp15: id(&types, "short_name", "GP15"),
            nurse20: id(&types, "short_name", "NURSE20"),
            bloods: id(&types, "short_name", "BLOODS"),
            amara: id(&providers, "name", "Dr Amara Okafor"),
            tom: id(&providers, "name", "Dr Tom Lindqvist"),
            sam: id(&providers, "name", "Sam Patel"),
            riverside: id(&locations, "full_name", "Riverside Surgery"),
            hillview: id(&locations, "full_name", "Hillview Health Centre"),
        }
    }

    /// Waits (at most 10 s) until the in-process scheduler has delivered every schedule due by
    /// now, so the messages a request queued are in the outbox.
    pub async fn settle(&self) {
        use clinic_shared::clock::Clock;
        use clinic_shared::store::{Query, SortKeyRange, keys};
        for _ in 0..400 {
            let now = keys::sortable_time(self.server.clock.now());
            let query = Query {
                range: SortKeyRange::Between(String::new(), format!("{now}#~")),
                ..Query::prefix(keys::SCHEDULE_PARTITION, "").limit(1)
            };
            let due = self.server.app.state.store.query(&query).await.expect("the store answers");
            if due.items.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("due schedules were not delivered within 10 s");
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn options(data_dir: &Path, reset: bool, limit: Option<clinic_shared::domain::rate_limit::RateLimit>) -> LocalOptions {
    LocalOptions {
        port: 0,
        data_dir: data_dir.to_path_buf(),
        reset,
        scheduler_tick: std::time::Duration::from_millis(50),
        public_rate_limit: limit,
    }
}

/// Starts a local server over `data_dir` on a free port.
pub async fn start_in(data_dir: &Path, reset: bool) -> LocalServer {
    local::start(options(data_dir, reset, None)).await.expect("local server starts")
}

/// The demo clinic's ids.
pub struct DemoIds {
    /// "GP consultation".
    pub gp15: String,
    /// "Practice nurse appointment".
    pub nurse20: String,
    /// "Blood test".
    pub bloods: String,
    /// Dr Amara Okafor (Riverside).
    pub amara: String,
    /// Dr Tom Lindqvist (Hillview).
    pub tom: String,
    /// Sam Patel, practice nurse (Riverside).
    pub sam: String,
    /// Riverside Surgery.
    pub riverside: String,
    /// Hillview Health Centre.
    pub hillview: String,
}

/// One answer from the local server.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: serde_json::Value,
    /// `Retry-After`, when sent.
    pub retry_after: Option<String>,
    /// `ETag`, when sent.
    pub etag: Option<String>,
}

impl Answer {
    /// The fields a problem body names.
    pub fn problem_fields(&self) -> Vec<String> {
        assert_eq!(self.content_type, "application/problem+json", "not a problem: {self:?}");
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|error| error["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    /// Sends a request; `body` is sent as raw bytes with `Content-Type: application/json`.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Vec<u8>>) -> Answer {
        self.call_if_match(method, path, token, body, None).await
    }

    /// Sends a request with `If-Match: {if_match}` when given.
    pub async fn call_if_match(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        if_match: Option<&str>,
    ) -> Answer {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(verb, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(if_match) = if_match {
            request = request.header("if-match", if_match);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let etag = header("etag");
        let bytes = response.bytes().await.expect("a body");
        contract::check(method, path, status, &content_type, &bytes);
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer { status, content_type, body, retry_after, etag }
    }

    /// Sends JSON.
    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: serde_json::Value) -> Answer {
        self.call(method, path, token, Some(body.to_string().into_bytes())).await
    }

    /// Sends a GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call("GET", path, token, None).await
    }
}

/// Runs `script` in the test command's Python with `pdf` on its standard input; its output.
fn python_on_pdf(script: &str, pdf: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| {
        format!("{}/.cache/clinic-booking/venv/bin/python", std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
    });
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the test command's Python runs");
    child.stdin.take().expect("stdin").write_all(pdf).expect("the PDF is written");
    let output = child.wait_with_output().expect("pypdf finishes");
    assert!(output.status.success(), "pypdf reads the PDF");
    output.stdout
}

/// The text of a PDF as an independent reader (Python's `pypdf`, installed by the test command)
/// extracts it, pages joined by form feeds.
pub fn pdf_text(pdf: &[u8]) -> String {
    let script = "import sys, io, pypdf\nreader = pypdf.PdfReader(io.BytesIO(sys.stdin.buffer.read()))\nprint('\\f'.join(page.extract_text() for page in reader.pages))";
    String::from_utf8_lossy(&python_on_pdf(script, pdf)).into_owned()
}

/// The images drawn on each page of a PDF as an independent reader (`pypdf`) finds them: for
/// each page, the (width, height, has a soft mask) of every image XObject it uses.
pub fn pdf_images(pdf: &[u8]) -> Vec<Vec<(u64, u64, bool)>> {
    let script = "import sys, io, json, pypdf\nreader = pypdf.PdfReader(io.BytesIO(sys.stdin.buffer.read()))\npages = []\nfor page in reader.pages:\n    found = []\n    objects = page.get('/Resources', {}).get('/XObject', {})\n    for name in objects:\n        image = objects[name].get_object()\n        if image.get('/Subtype') == '/Image':\n            found.append([int(image['/Width']), int(image['/Height']), '/SMask' in image])\n    pages.append(found)\nprint(json.dumps(pages))";
    serde_json::from_slice(&python_on_pdf(script, pdf)).expect("pypdf's answer is JSON")
}
