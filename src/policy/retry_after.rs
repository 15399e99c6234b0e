//! Reading a server's `Retry-After` (RFC 9110 §10.2.3) and Azure's
//! millisecond variants.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName};

/// Azure's millisecond variants, checked before `Retry-After`. Names built
/// once: looking a header up by `&str` parses the name on every call.
const MILLISECOND_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("retry-after-ms"),
    HeaderName::from_static("x-ms-retry-after-ms"),
];

/// The delay a response asks for, uncapped; `now` is read only when an
/// HTTP-date needs it.
///
/// Reads, in this order: `retry-after-ms`, `x-ms-retry-after-ms` (whole or
/// fractional milliseconds) and `Retry-After` (delay-seconds, or an HTTP-date
/// in any of the three formats of RFC 9110 §5.6.7). A date is measured from
/// the response's `Date` header when it has a valid one (so clock skew between
/// server and client does not matter), else from `now`. A date in the past is
/// a zero delay. Negative, empty or unparsable values are ignored (`None`).
/// Huge values saturate; capping them is the [`PollPolicy`](super::PollPolicy)'s
/// job.
pub(crate) fn parse_retry_after_with(
    headers: &HeaderMap,
    now: impl FnOnce() -> SystemTime,
) -> Option<Duration> {
    for name in &MILLISECOND_HEADERS {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_number)
        {
            return Some(ms_to_duration(ms));
        }
    }
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Some(seconds) = parse_number(value) {
        return Some(ms_to_duration(seconds * 1000.0));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let reference = headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        .unwrap_or_else(now);
    Some(at.duration_since(reference).unwrap_or(Duration::ZERO))
}

/// A non-negative decimal number (`"30"`, `"1.5"`); huge values become
/// infinity, which saturates later.
fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits_and_dot = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|&b| b == b'.').count() <= 1
        && text.bytes().any(|b| b.is_ascii_digit());
    if !digits_and_dot {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| *n >= 0.0)
}

fn ms_to_duration(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn parse(pairs: &[(&str, &str)]) -> Option<Duration> {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        parse_retry_after_with(&headers(pairs), || now)
    }

    #[test]
    fn seconds() {
        assert_eq!(parse(&[("Retry-After", "0")]), Some(Duration::ZERO));
        assert_eq!(
            parse(&[("Retry-After", " 120 ")]),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse(&[("Retry-After", "1.5")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse(&[("Retry-After", "9999999999")]),
            Some(Duration::from_secs(9_999_999_999))
        );
        assert_eq!(
            parse(&[("Retry-After", &"9".repeat(400))]),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn garbage_and_negative_values_are_ignored() {
        for bad in [
            "-1", "", "soon", "1e3", "1.2.3", ".", "NaN", "inf", "+5", "0x10",
        ] {
            assert_eq!(parse(&[("Retry-After", bad)]), None, "{bad:?}");
        }
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn all_three_date_formats_count_the_whole_duration() {
        // 2 hours, 3 minutes and 4 seconds after `now`: the whole duration, not
        // its seconds component.
        let expected = Some(Duration::from_secs(2 * 3600 + 3 * 60 + 4));
        assert_eq!(
            parse(&[("Retry-After", "Sun, 06 Nov 1994 10:52:41 GMT")]),
            expected
        );
        assert_eq!(
            parse(&[("Retry-After", "Sunday, 06-Nov-94 10:52:41 GMT")]),
            expected
        );
        assert_eq!(
            parse(&[("Retry-After", "Sun Nov  6 10:52:41 1994")]),
            expected
        );
    }

    #[test]
    fn dates_are_measured_from_the_date_header_and_past_dates_are_zero() {
        assert_eq!(
            parse(&[
                ("Retry-After", "Sun, 06 Nov 1994 08:50:00 GMT"),
                ("Date", "Sun, 06 Nov 1994 08:49:50 GMT"),
            ]),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse(&[("Retry-After", "Sat, 05 Nov 1994 08:49:37 GMT")]),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn millisecond_headers_win() {
        assert_eq!(
            parse(&[("Retry-After", "30"), ("retry-after-ms", "250")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse(&[("x-ms-retry-after-ms", "1500.5")]),
            Some(Duration::from_micros(1_500_500))
        );
        assert_eq!(
            parse(&[("retry-after-ms", "junk"), ("Retry-After", "2")]),
            Some(Duration::from_secs(2))
        );
    }

    proptest! {
        /// Whatever the headers hold, reading them never panics.
        #[test]
        fn any_headers_read_safely(
            values in proptest::collection::vec((0usize..4, proptest::collection::vec(any::<u8>(), 0..40)), 1..4),
        ) {
            let names = ["retry-after", "retry-after-ms", "x-ms-retry-after-ms", "date"];
            let mut map = HeaderMap::new();
            for (name, bytes) in values {
                if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                    map.append(names[name], value);
                }
            }
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
            let _ = parse_retry_after_with(&map, || now);
        }
    }
}
