//! The local server: `clinic-local [serve] [--reset]`, `clinic-local token [--clinic ID]...`,
//! `clinic-local openapi`.

use clinic_shared::domain::access::Permission;
use clinic_shared::local::{self, LocalOptions, jwt::SigningKey, seed::DEMO_CLINIC};

const USAGE: &str = "usage: clinic-local [serve] [--reset] | token [--clinic ID ...] [--subject ID] | openapi";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") | Some("--reset") => serve(args.iter().any(|arg| arg == "--reset")).await,
        Some("token") => token(&args[1..]),
        Some("openapi") => {
            println!("{}", serde_json::to_string_pretty(&clinic_shared::openapi::document()).unwrap_or_default());
            Ok(())
        }
        Some(_) => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(reset: bool) -> Result<(), String> {
    clinic_shared::telemetry::init_local();
    let options = LocalOptions::from_env(reset)?;
    let server = local::start(options).await.map_err(|error| error.to_string())?;
    let now = clinic_shared::clock::Clock::now(server.clock.as_ref()).as_second();
    let token = server.signing_key.mint("local-admin", &[DEMO_CLINIC], &Permission::ALL, now, 12)?;
    let base = format!("http://{}", server.address);
    eprintln!("\nClinic booking, local mode: {base}");
    eprintln!("  book as a patient:       {base}/book/{DEMO_CLINIC}");
    eprintln!("  patient portal:          {base}/portal/{DEMO_CLINIC}");
    eprintln!("  partner staff page:      {base}/staff/partner-booking  (paste the token below)");
    eprintln!("  the API's document:      {base}/openapi.json  (import it into an API client)");
    eprintln!("  messages \"sent\":         {base}/_local/outbox");
    eprintln!("  move the clock:          curl -X POST -d '{{\"advance_hours\": 24}}' {base}/_local/clock");
    eprintln!("  admin token (clinic {DEMO_CLINIC}, every permission, 12 h):\n{token}\n");
    tokio::signal::ctrl_c().await.map_err(|error| error.to_string())?;
    Ok(())
}

fn token(args: &[String]) -> Result<(), String> {
    let mut clinics = Vec::new();
    let mut subject = "local-admin".to_owned();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--clinic" => clinics.push(iter.next().ok_or(USAGE)?.clone()),
            "--subject" => subject = iter.next().ok_or(USAGE)?.clone(),
            _ => return Err(USAGE.to_owned()),
        }
    }
    if clinics.is_empty() {
        clinics.push(DEMO_CLINIC.to_owned());
    }
    let options = LocalOptions::from_env(false)?;
    let key = SigningKey::load(&options.data_dir)?;
    let clinic_refs: Vec<&str> = clinics.iter().map(String::as_str).collect();
    // Valid on the server's clock, which `/_local/clock` may have moved ahead.
    let now = jiff::Timestamp::now().saturating_add(local::saved_clock_offset(&options.data_dir)).unwrap_or_default();
    println!("{}", key.mint(&subject, &clinic_refs, &Permission::ALL, now.as_second(), 12)?);
    Ok(())
}
