//! The working calendar (工作日): Monday to Friday work, except the year's published
//! exceptions — holidays (放假) and the weekend days worked in exchange (调休上班) — and the
//! deadline arithmetic on it. Pure: the exceptions come in as values.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};

named_enum! {
    pub enum DayKind {
        /// A day off, whatever the weekday.
        Holiday => "holiday",
        /// A day worked, whatever the weekday (a make-up Saturday or Sunday).
        Workday => "workday",
    }
}

/// Deadlines further out than this many days are not looked for: a calendar whose
/// exceptions made every day a holiday would otherwise loop for ever.
const HORIZON_DAYS: u64 = 3660;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    exceptions: BTreeMap<NaiveDate, DayKind>,
}

impl WorkingCalendar {
    pub fn new(exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        WorkingCalendar {
            exceptions: exceptions.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th working day after `date` (受理之日起 N 个工作日: the filing day itself never
    /// counts, whatever its kind). `n = 0` is `date` itself.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut left = n;
        let mut steps = 0;
        while left > 0 && steps < HORIZON_DAYS {
            day = day.succ_opt().unwrap_or(day);
            steps += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// How many working days lie after `from`, up to and including `to` (0 if `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as u32
    }

    /// Time between two local instants that fell on working days (each working day counts
    /// from midnight to midnight): how long a working-day SLA clock ran, or stood still.
    pub fn working_time_between(&self, from: NaiveDateTime, to: NaiveDateTime) -> TimeDelta {
        let mut total = TimeDelta::zero();
        let mut cursor = from;
        while cursor < to {
            let next_midnight = start_of_next_day(cursor);
            let end = next_midnight.min(to);
            if self.is_working_day(cursor.date()) {
                total += end - cursor;
            }
            cursor = end;
        }
        total
    }

    /// The local instant reached by letting `amount` of working time run from `start`
    /// (non-working days pass without using any): the inverse of `working_time_between`.
    pub fn add_working_time(&self, start: NaiveDateTime, amount: TimeDelta) -> NaiveDateTime {
        let mut cursor = start;
        let mut left = amount;
        let mut steps = 0;
        while left > TimeDelta::zero() && steps < HORIZON_DAYS {
            let next_midnight = start_of_next_day(cursor);
            if self.is_working_day(cursor.date()) {
                let room = next_midnight - cursor;
                if left <= room {
                    return cursor + left;
                }
                left -= room;
            }
            cursor = next_midnight;
            steps += 1;
        }
        cursor
    }
}

fn start_of_next_day(t: NaiveDateTime) -> NaiveDateTime {
    t.date()
        .checked_add_days(Days::new(1))
        .map_or(NaiveDateTime::MAX, |d| d.and_time(NaiveTime::MIN))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time")
    }

    /// The State Council's arrangement for 2026, written out independently of the migration.
    pub(crate) fn calendar_2026() -> WorkingCalendar {
        let mut days = Vec::new();
        let holidays = [
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ];
        for (first, last) in holidays {
            for day in d(first).iter_days().take_while(|x| *x <= d(last)) {
                days.push((day, DayKind::Holiday));
            }
        }
        for day in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            days.push((d(day), DayKind::Workday));
        }
        WorkingCalendar::new(days)
    }

    #[test]
    fn weekdays_work_weekends_rest_without_exceptions() {
        let plain = WorkingCalendar::default();
        // 2026-11-30 is a Monday.
        let week: Vec<bool> = d("2026-11-30")
            .iter_days()
            .take(7)
            .map(|x| plain.is_working_day(x))
            .collect();
        assert_eq!(week, [true, true, true, true, true, false, false]);
    }

    #[test]
    fn exceptions_override_the_weekday() {
        let cal = calendar_2026();
        assert!(!cal.is_working_day(d("2026-10-01")), "Thursday holiday");
        assert!(cal.is_working_day(d("2026-10-10")), "make-up Saturday");
        assert!(cal.is_working_day(d("2026-09-20")), "make-up Sunday");
        assert!(!cal.is_working_day(d("2026-10-11")), "plain Sunday");
        assert!(cal.is_working_day(d("2026-10-09")), "plain Friday");
    }

    /// The three worked examples of calendar-2026.md.
    #[test]
    fn worked_examples_of_2026() {
        let cal = calendar_2026();
        assert_eq!(cal.add_working_days(d("2026-09-23"), 5), d("2026-10-08"));
        assert_eq!(cal.add_working_days(d("2026-02-13"), 5), d("2026-02-27"));
        assert_eq!(cal.add_working_days(d("2026-05-02"), 5), d("2026-05-11"));
    }

    #[test]
    fn a_make_up_saturday_counts() {
        let cal = calendar_2026();
        assert_eq!(cal.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
        assert_eq!(cal.add_working_days(d("2026-05-08"), 1), d("2026-05-09"));
        assert_eq!(
            cal.working_days_between(d("2026-05-08"), d("2026-05-11")),
            2
        );
    }

    #[test]
    fn zero_days_is_the_same_day_and_counts_are_exclusive_of_the_start() {
        let cal = calendar_2026();
        assert_eq!(cal.add_working_days(d("2026-10-03"), 0), d("2026-10-03"));
        assert_eq!(
            cal.working_days_between(d("2026-10-08"), d("2026-10-08")),
            0
        );
        assert_eq!(
            cal.working_days_between(d("2026-10-09"), d("2026-10-08")),
            0
        );
        assert_eq!(
            cal.working_days_between(d("2026-10-07"), d("2026-10-08")),
            1
        );
    }

    #[test]
    fn a_calendar_of_only_holidays_still_answers() {
        let start = d("2026-01-01");
        let never =
            WorkingCalendar::new(start.iter_days().take(4000).map(|x| (x, DayKind::Holiday)));
        let far = never.add_working_days(start, 1);
        assert!(far > start);
        assert!(
            never.add_working_time(t("2026-01-01 00:00"), TimeDelta::hours(1))
                > t("2030-01-01 00:00")
        );
    }

    #[test]
    fn working_time_skips_days_off() {
        let cal = calendar_2026();
        // Wednesday 10:00 to the following Monday 10:00 across the Mid-Autumn holiday:
        // the rest of Wednesday, all of Thursday and Monday's first ten hours.
        let ran = cal.working_time_between(t("2026-09-23 10:00"), t("2026-09-28 10:00"));
        assert_eq!(ran, TimeDelta::hours(14 + 24 + 10));
        assert_eq!(
            cal.working_time_between(t("2026-10-01 08:00"), t("2026-10-07 20:00")),
            TimeDelta::zero()
        );
        // A 2-hour pause on Thursday 2026-10-08 18:00 moves the deadline to 20:00.
        assert_eq!(
            cal.add_working_time(t("2026-10-08 18:00"), TimeDelta::hours(2)),
            t("2026-10-08 20:00")
        );
        // Eight hours from Friday 20:00 runs out on the make-up Saturday at 04:00.
        assert_eq!(
            cal.add_working_time(t("2026-10-09 20:00"), TimeDelta::hours(8)),
            t("2026-10-10 04:00")
        );
        // A whole working day from a holiday's eve lands a working day later.
        assert_eq!(
            cal.add_working_time(t("2026-09-30 18:00"), TimeDelta::hours(24)),
            t("2026-10-08 18:00")
        );
    }

    #[test]
    fn names_round_trip() {
        crate::domain::assert_names(&DayKind::ALL, &["holiday", "workday"]);
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        (0u64..1100).prop_map(|n| d("2025-06-01") + Days::new(n))
    }

    fn calendar_strategy() -> impl Strategy<Value = WorkingCalendar> {
        prop_oneof![
            Just(calendar_2026()),
            prop::collection::vec(
                (date_strategy(), prop::sample::select(DayKind::ALL.to_vec())),
                0..80
            )
            .prop_map(WorkingCalendar::new),
        ]
    }

    proptest! {
        #[test]
        fn adding_then_counting_gives_n(cal in calendar_strategy(), from in date_strategy(), n in 0u32..60) {
            let due = cal.add_working_days(from, n);
            prop_assert_eq!(cal.working_days_between(from, due), n);
            if n > 0 {
                prop_assert!(cal.is_working_day(due));
                prop_assert!(due > from);
            }
        }

        #[test]
        fn deadlines_are_monotone_in_n(cal in calendar_strategy(), from in date_strategy(), n in 0u32..60) {
            prop_assert!(cal.add_working_days(from, n + 1) > cal.add_working_days(from, n));
        }

        #[test]
        fn working_time_added_is_working_time_counted(
            cal in calendar_strategy(),
            from in date_strategy(),
            minute in 0i64..1440,
            minutes in 1i64..(20 * 1440),
        ) {
            let start = from.and_time(NaiveTime::MIN) + TimeDelta::minutes(minute);
            let end = cal.add_working_time(start, TimeDelta::minutes(minutes));
            prop_assert_eq!(cal.working_time_between(start, end), TimeDelta::minutes(minutes));
            prop_assert!(end > start);
        }
    }
}
