//! Public routes are rate limited per client address with a token bucket kept in the store.

use clinic_shared::domain::rate_limit::RateLimit;
use clinic_tests::TestApp;

#[tokio::test]
async fn a_client_over_its_limit_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(Some(RateLimit { capacity: 3.0, per_second: 0.1 })).await;
    for _ in 0..3 {
        assert_eq!(app.get("/public/clinics/demo/catalog", None).await.status, 200);
    }
    let limited = app.get("/public/clinics/demo/catalog", None).await;
    assert_eq!((limited.status, limited.content_type.as_str()), (429, "application/problem+json"));
    let wait: u64 = limited.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    // Admin routes are not limited by it.
    assert_eq!(app.get("/admin/clinics/demo/booking-types", Some(&app.demo_admin())).await.status, 200);
}
