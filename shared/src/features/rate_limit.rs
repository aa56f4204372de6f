//! Public endpoints are rate limited per client address, with a token bucket kept in the store.
//! The address is stored only as a hash, and the bucket expires after an hour.

use lambda_http::Request;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::domain::rate_limit::TokenBucket;
use crate::http::Problem;
use crate::http::request::source_ip;
use crate::store::{Condition, Item, StoreError, Write, keys};

const ATTEMPTS: usize = 4;

/// Takes a token for the caller of a public route; 429 with `Retry-After` when none is left.
pub async fn check_public(state: &AppState, request: &Request) -> Result<(), Problem> {
    let Some(limit) = state.settings.public_rate_limit else { return Ok(()) };
    let client = hex::encode(Sha256::digest(source_ip(request).unwrap_or("unknown").as_bytes()));
    let key = keys::rate_bucket("public", &client[..32]);
    for _ in 0..ATTEMPTS {
        let now = state.clock.now();
        let stored = state.store.get(&key).await?;
        let (bucket, condition, version) = match &stored {
            Some(item) => (item.record::<TokenBucket>()?, Condition::VersionIs(item.version), item.version + 1),
            None => (TokenBucket::full(limit, now), Condition::NotExists, 1),
        };
        let next = bucket.take(limit, now).map_err(|wait| {
            let mut problem = Problem::too_many_requests();
            problem.retry_after = Some(wait);
            problem
        })?;
        let item = Item::from_record(key.clone(), &next)?.with_version(version).with_expiry(now.as_second() + 3600);
        match state.store.write(Write::put(item, condition)).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(Problem::too_many_requests())
}
