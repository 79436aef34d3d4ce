//! Durations people write (`90`, `90s`, `20m`, `1h 30m`), bounded where they are read.
//!
//! Every duration a formula, the configuration or the environment gives ends up added
//! to a clock (`Instant::now() + timeout`), and `Instant + Duration` panics when the
//! sum overflows. Bounding the value when it is parsed turns
//! `timeout: 9223372036854775807s` into an error with a position instead of a panic
//! in the middle of a run; [`deadline`] keeps the arithmetic safe for values that
//! never went through a parser. *Invariant: no I/O.*

use std::time::{Duration, Instant};

/// The longest duration accepted anywhere: 366 days, longer than any timeout, lease,
/// window or interval has a use for, and far from any clock's overflow.
pub const MAX: Duration = Duration::from_secs(366 * 24 * 3600);

/// What a duration looks like, for messages.
pub const EXPECTED: &str = "seconds (`90`) or a duration (`90s`, `20m`, `1h`), at most 366 days";

/// Why a text or number is not an accepted duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number of seconds nor a humantime duration.
    #[error("not a duration; expected {EXPECTED}")]
    NotADuration,
    /// Zero, or negative.
    #[error("a duration must be more than 0 seconds")]
    NotPositive,
    /// Beyond [`MAX`].
    #[error("too long; at most 366 days (`366d`)")]
    TooLong,
}

/// Parses seconds (`90`) or a humantime duration (`90s`, `20m`, `1h 30m`), more than
/// zero and at most [`MAX`].
///
/// # Errors
/// Says which rule the text broke.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let d = match trimmed.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        // Digits only, yet not a u64: too many of them.
        Err(_) if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(DurationError::TooLong);
        }
        Err(_) => humantime::parse_duration(trimmed).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => DurationError::TooLong,
            _ => DurationError::NotADuration,
        })?,
    };
    check(d)
}

/// [`parse`], with the text in the message, for places that show no excerpt.
///
/// # Errors
/// As [`parse`].
pub fn parse_text(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| format!("`{text}`: {e}"))
}

/// Checks a duration that came as a number: more than zero and at most [`MAX`].
///
/// # Errors
/// Says which bound it broke.
pub fn check(d: Duration) -> Result<Duration, DurationError> {
    if d.is_zero() {
        Err(DurationError::NotPositive)
    } else if d > MAX {
        Err(DurationError::TooLong)
    } else {
        Ok(d)
    }
}

/// `from + d`, or a point far enough ahead to mean "never" when the sum would not fit
/// the clock.
pub fn deadline(from: Instant, d: Duration) -> Instant {
    from.checked_add(d)
        .or_else(|| from.checked_add(MAX))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 20m "), Ok(Duration::from_secs(1200)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("366d"), Ok(MAX));
    }

    #[test]
    fn refuses_zero_garbage_and_what_would_overflow_a_clock() {
        for text in [
            "9223372036854775807s",
            "9223372036854775807",
            "99999999999999999999999",
            "99999999999999999999999s",
            "367d",
            "18446744073709551615ns 400d",
        ] {
            assert_eq!(parse(text), Err(DurationError::TooLong), "{text}");
        }
        assert_eq!(parse("0"), Err(DurationError::NotPositive));
        assert_eq!(parse("soon"), Err(DurationError::NotADuration));
        assert_eq!(parse(""), Err(DurationError::NotADuration));
        assert_eq!(
            parse_text("400d").unwrap_err(),
            "`400d`: too long; at most 366 days (`366d`)"
        );
    }

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();
        assert!(deadline(now, Duration::MAX) > now);
        assert_eq!(
            deadline(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
