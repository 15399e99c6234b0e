//! `AsyncJobStatus::from_json` on any bytes: never a panic; a report that
//! parses is coherent (finite progress) and survives a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lro_poller::AsyncJobStatus;

fuzz_target!(|data: &[u8]| {
    if let Ok(status) = AsyncJobStatus::from_json(data) {
        assert!(status.percentage_complete.is_none_or(f64::is_finite));
        let text = serde_json::to_string(&status).expect("a report serializes");
        let back = AsyncJobStatus::from_json(text.as_bytes()).expect("and reads back");
        assert_eq!(back.status, status.status);
    }
});
