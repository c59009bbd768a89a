//! Instants as integer milliseconds UTC, shown in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

use time::{
    OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::format_description,
};

/// Vietnam's offset: UTC+7 all year.
pub const ICT: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub i64);

impl Millis {
    fn to_datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Parses RFC 3339 with an offset (`2027-03-31T17:00:00+07:00` or `…Z`).
    pub fn parse_rfc3339(s: &str) -> Option<Millis> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Millis)
    }

    /// The time of day in Vietnam and the date, for a form's `datetime-local` field:
    /// `2027-03-31T17:00`.
    pub fn datetime_local_ict(self) -> String {
        let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]");
        self.to_datetime()
            .to_offset(ICT)
            .format(&fmt)
            .unwrap_or_default()
    }

    /// Parses a form's `datetime-local` value as Vietnam time.
    pub fn parse_datetime_local_ict(s: &str) -> Option<Millis> {
        let s = s.trim();
        let s = if s.len() == 16 {
            format!("{s}:00")
        } else {
            s.to_owned()
        };
        Millis::parse_rfc3339(&format!("{s}+07:00"))
    }

    /// RFC 3339 in UTC, for the API: `2022-07-22T01:00:00Z`.
    pub fn rfc3339_utc(self) -> String {
        self.to_datetime().format(&Rfc3339).unwrap_or_default()
    }

    /// Local Vietnamese time for pages: `22/07/2022 08:00 (GMT+7)`.
    pub fn display_ict(self) -> String {
        let fmt = format_description!("[day]/[month]/[year] [hour]:[minute] (GMT+7)");
        self.to_datetime()
            .to_offset(ICT)
            .format(&fmt)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_utc_and_ict() {
        // 2022-07-22 01:00:00 UTC, the 2022 launch day, 08:00 in Hanoi.
        let t = Millis(1_658_451_600_000);
        assert_eq!(t.rfc3339_utc(), "2022-07-22T01:00:00Z");
        assert_eq!(t.display_ict(), "22/07/2022 08:00 (GMT+7)");
    }

    #[test]
    fn parses_with_offsets_and_forms() {
        assert_eq!(
            Millis::parse_rfc3339("2022-07-22T08:00:00+07:00"),
            Some(Millis(1_658_451_600_000))
        );
        assert_eq!(
            Millis::parse_rfc3339("2022-07-22T01:00:00Z"),
            Some(Millis(1_658_451_600_000))
        );
        assert_eq!(Millis::parse_rfc3339("22/07/2022"), None);
        assert_eq!(
            Millis(1_658_451_600_000).datetime_local_ict(),
            "2022-07-22T08:00"
        );
        assert_eq!(
            Millis::parse_datetime_local_ict("2022-07-22T08:00"),
            Some(Millis(1_658_451_600_000))
        );
    }

    #[test]
    fn ict_crosses_midnight() {
        // 2022-07-21 20:30 UTC is 03:30 the next day in Vietnam.
        assert_eq!(
            Millis(1_658_435_400_000).display_ict(),
            "22/07/2022 03:30 (GMT+7)"
        );
    }
}
