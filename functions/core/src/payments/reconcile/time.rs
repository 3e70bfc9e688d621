//! UTC calendar arithmetic for reconciliation ranges: a `YYYY-MM-DD` day as a Unix ms
//! range, and Unix ms to and from ISO 8601 (`2024-05-01T12:00:00.000Z`, YooKassa's form).

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number since 1970-01-01 (Howard Hinnant's
/// algorithm); the one calendar of the edge and its tools.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn number(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Unix ms of midnight UTC of a `YYYY-MM-DD` date; `None` unless it is a real date.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (y, m, d) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days * DAY_MS)
}

/// `[midnight, next midnight)` of a `YYYY-MM-DD` day, in Unix ms.
pub fn day_range(text: &str) -> Option<(i64, i64)> {
    parse_day(text).map(|from| (from, from + DAY_MS))
}

/// Unix ms as ISO 8601 UTC with milliseconds: `2024-05-01T12:00:00.000Z`.
pub fn iso(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Unix ms of an ISO 8601 UTC time (`…T12:00:00Z`, `…T12:00:00.123Z`); `None` otherwise.
pub fn parse_iso(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let day = parse_day(date)?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    let (h, m, s) = (number(h, 2)?, number(m, 2)?, number(s, 2)?);
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let milli = match frac.len() {
        0 => 0,
        n if frac.bytes().all(|b| b.is_ascii_digit()) => {
            frac.get(..n.min(3))?.parse::<i64>().ok()? * 10_i64.pow(3 - n.min(3) as u32)
        }
        _ => return None,
    };
    Some(day + ((h * 60 + m) * 60 + s) * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_iso_round_trip() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(
            day_range("2024-03-01"),
            Some((1_709_251_200_000, 1_709_337_600_000))
        );
        assert_eq!(parse_day("2024-02-29"), Some(1_709_164_800_000));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-01-",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        assert_eq!(iso(1_709_251_200_123), "2024-03-01T00:00:00.123Z");
        assert_eq!(
            parse_iso("2024-03-01T00:00:00.123Z"),
            Some(1_709_251_200_123)
        );
        assert_eq!(parse_iso("2024-03-01T01:02:03Z"), Some(1_709_254_923_000));
        assert_eq!(parse_iso("2024-03-01T01:02:03.5Z"), Some(1_709_254_923_500));
        assert_eq!(parse_iso("2024-03-01 01:02:03Z"), None);
    }
}
