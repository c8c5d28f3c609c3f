//! Service-level deadlines for tickets.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};

use super::calendar::WorkingCalendar;
use super::ticket::{Priority, TicketStatus};

/// A category's deadline: calendar hours from filing, or the end of the N-th working day
/// after the filing's local date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sla {
    Hours(i32),
    WorkingDays(u32),
}

impl Sla {
    /// The working-day SLA wins when a category has both.
    pub fn of_category(sla_hours: i32, sla_working_days: Option<i32>) -> Sla {
        match sla_working_days {
            Some(n) if n > 0 => Sla::WorkingDays(n.unsigned_abs()),
            _ => Sla::Hours(sla_hours),
        }
    }
}

/// Deadlines against the working calendar, in the office's time zone. Instants in and out
/// are naive UTC, as stored.
pub struct SlaClock<'a> {
    pub calendar: &'a WorkingCalendar,
    pub tz: chrono_tz::Tz,
    pub workday_end: NaiveTime,
}

impl SlaClock<'_> {
    fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        self.tz.from_utc_datetime(&utc).naive_local()
    }

    /// A local time that a clock change skipped is read as the first instant after the gap.
    fn utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.naive_utc();
            }
            probe += TimeDelta::minutes(30);
        }
        local
    }

    fn end_of(&self, date: NaiveDate) -> NaiveDateTime {
        self.utc(date.and_time(self.workday_end))
    }

    /// A working-day deadline does not halve for urgent tickets: the statute counts whole
    /// working days; urgency shows in the queue's order instead.
    pub fn due_at(&self, sla: Sla, filed_at: NaiveDateTime, priority: Priority) -> NaiveDateTime {
        match sla {
            Sla::Hours(h) => due_at(filed_at, h, priority),
            Sla::WorkingDays(n) => {
                let filed_on = self.local(filed_at).date();
                self.end_of(self.calendar.add_working_days(filed_on, n))
            }
        }
    }

    /// The deadline after a pause from `paused_at` to `resumed_at`: later by the time the
    /// clock stood still — calendar time for an hour SLA, working time for a working-day one.
    pub fn resumed(
        &self,
        sla: Sla,
        due_at: NaiveDateTime,
        paused_at: NaiveDateTime,
        resumed_at: NaiveDateTime,
    ) -> NaiveDateTime {
        if resumed_at <= paused_at {
            return due_at;
        }
        match sla {
            Sla::Hours(_) => due_at + (resumed_at - paused_at),
            Sla::WorkingDays(_) => {
                let stood = self
                    .calendar
                    .working_time_between(self.local(paused_at), self.local(resumed_at));
                self.utc(self.calendar.add_working_time(self.local(due_at), stood))
            }
        }
    }

    /// An approved extension (延期): the same local time of day, `days` working days later.
    pub fn extended(&self, due_at: NaiveDateTime, days: u32) -> NaiveDateTime {
        let local = self.local(due_at);
        self.utc(
            self.calendar
                .add_working_days(local.date(), days)
                .and_time(local.time()),
        )
    }
}

/// The instant `fraction` of the way from `from` to `due_at`: when a `due_soon` warning is
/// due.
pub fn warn_at(from: NaiveDateTime, due_at: NaiveDateTime, fraction: f64) -> NaiveDateTime {
    let span = (due_at - from).num_seconds().max(0) as f64;
    from + TimeDelta::seconds((span * fraction.clamp(0.0, 1.0)).round() as i64)
}

/// Urgent tickets get half the configured time. The arithmetic is in minutes
/// so an odd number of hours halves exactly (1 hour urgent = 30 minutes).
pub fn due_at(created_at: NaiveDateTime, sla_hours: i32, priority: Priority) -> NaiveDateTime {
    let minutes = i64::from(sla_hours) * 60;
    let minutes = match priority {
        Priority::Urgent => minutes / 2,
        Priority::Low | Priority::Normal | Priority::High => minutes,
    };
    // Only reachable with dates near chrono's limits; saturating keeps the
    // function total instead of panicking on absurd input.
    created_at
        .checked_add_signed(TimeDelta::minutes(minutes))
        .unwrap_or(if minutes < 0 {
            NaiveDateTime::MIN
        } else {
            NaiveDateTime::MAX
        })
}

/// A ticket is overdue only while someone still owes work on it and its clock runs: once
/// resolved, lateness is judged by [`on_time`] instead, and while it waits for the enterprise
/// the clock stands still.
pub fn is_overdue(status: TicketStatus, due_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    status.clock_runs() && now > due_at
}

/// Whether a resolved ticket that the enterprise neither confirmed nor
/// reopened should now be closed automatically.
pub fn auto_close_due(
    status: TicketStatus,
    resolved_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
    auto_close_days: u32,
) -> bool {
    status == TicketStatus::Resolved
        && resolved_at
            .and_then(|at| at.checked_add_days(Days::new(u64::from(auto_close_days))))
            .is_some_and(|deadline| deadline <= now)
}

/// Resolving exactly at the deadline still counts as on time.
pub fn on_time(resolved_at: NaiveDateTime, due_at: NaiveDateTime) -> bool {
    resolved_at <= due_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(day: u32, hour: u32, minute: u32, second: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 3, day)
            .and_then(|d| d.and_hms_opt(hour, minute, second))
            .expect("valid time")
    }

    #[test]
    fn due_at_adds_hours_for_non_urgent() {
        let created = t(1, 9, 0, 0);
        for priority in [Priority::Low, Priority::Normal, Priority::High] {
            assert_eq!(due_at(created, 24, priority), t(2, 9, 0, 0));
            assert_eq!(due_at(created, 1, priority), t(1, 10, 0, 0));
        }
        assert_eq!(due_at(created, 0, Priority::Normal), created);
    }

    #[test]
    fn due_at_halves_urgent_in_minutes() {
        let created = t(1, 9, 0, 0);
        assert_eq!(due_at(created, 1, Priority::Urgent), t(1, 9, 30, 0));
        assert_eq!(due_at(created, 3, Priority::Urgent), t(1, 10, 30, 0));
        assert_eq!(due_at(created, 48, Priority::Urgent), t(2, 9, 0, 0));
        assert_eq!(due_at(created, 0, Priority::Urgent), created);
    }

    #[test]
    fn due_at_crosses_month_end() {
        assert_eq!(
            due_at(t(31, 20, 0, 0), 8, Priority::Normal),
            NaiveDate::from_ymd_opt(2025, 4, 1)
                .and_then(|d| d.and_hms_opt(4, 0, 0))
                .expect("valid time")
        );
    }

    #[test]
    fn due_at_saturates_instead_of_panicking() {
        assert_eq!(
            due_at(NaiveDateTime::MAX, 1, Priority::Normal),
            NaiveDateTime::MAX
        );
        assert_eq!(
            due_at(NaiveDateTime::MIN, -1, Priority::Normal),
            NaiveDateTime::MIN
        );
    }

    #[test]
    fn overdue_is_strictly_after_due() {
        let due = t(2, 9, 0, 0);
        for status in [
            TicketStatus::Submitted,
            TicketStatus::Assigned,
            TicketStatus::InProgress,
        ] {
            assert!(!is_overdue(status, due, due));
            assert!(!is_overdue(status, due, t(2, 8, 59, 59)));
            assert!(is_overdue(status, due, t(2, 9, 0, 1)));
        }
    }

    #[test]
    fn only_open_tickets_become_overdue() {
        let due = t(2, 9, 0, 0);
        let late = t(20, 0, 0, 0);
        for status in [
            TicketStatus::Resolved,
            TicketStatus::Closed,
            TicketStatus::Cancelled,
        ] {
            assert!(!is_overdue(status, due, late));
        }
    }

    #[test]
    fn auto_close_boundary() {
        let resolved = Some(t(1, 12, 0, 0));
        let status = TicketStatus::Resolved;
        assert!(!auto_close_due(status, resolved, t(8, 11, 59, 59), 7));
        assert!(auto_close_due(status, resolved, t(8, 12, 0, 0), 7));
        assert!(auto_close_due(status, resolved, t(9, 0, 0, 0), 7));
        // Zero days closes as soon as the scheduler sees it.
        assert!(auto_close_due(status, resolved, t(1, 12, 0, 0), 0));
    }

    #[test]
    fn auto_close_needs_resolved_status_and_time() {
        let resolved = Some(t(1, 12, 0, 0));
        let late = t(30, 0, 0, 0);
        assert!(!auto_close_due(TicketStatus::Resolved, None, late, 7));
        for status in TicketStatus::ALL {
            if status != TicketStatus::Resolved {
                assert!(!auto_close_due(status, resolved, late, 7), "{status}");
            }
        }
        assert!(!auto_close_due(
            TicketStatus::Resolved,
            Some(NaiveDateTime::MAX),
            NaiveDateTime::MAX,
            1
        ));
    }

    fn clock(cal: &WorkingCalendar) -> SlaClock<'_> {
        SlaClock {
            calendar: cal,
            tz: chrono_tz::Asia::Shanghai,
            workday_end: NaiveTime::from_hms_opt(18, 0, 0).expect("time"),
        }
    }

    /// Local Shanghai time as naive UTC.
    fn cst(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time") - TimeDelta::hours(8)
    }

    #[test]
    fn working_day_deadlines_of_calendar_2026() {
        let cal = crate::domain::calendar::tests::calendar_2026();
        let c = clock(&cal);
        let five = Sla::WorkingDays(5);
        for (filed, due) in [
            ("2026-09-23 10:00", "2026-10-08 18:00"),
            ("2026-02-13 16:00", "2026-02-27 18:00"),
            ("2026-05-02 09:00", "2026-05-11 18:00"),
        ] {
            for priority in Priority::ALL {
                assert_eq!(c.due_at(five, cst(filed), priority), cst(due), "{filed}");
            }
        }
        // Just after local midnight is the next local day, though UTC is still the day before.
        assert_eq!(
            c.due_at(
                Sla::WorkingDays(1),
                cst("2026-10-09 00:30"),
                Priority::Normal
            ),
            cst("2026-10-10 18:00")
        );
        assert_eq!(
            c.due_at(Sla::Hours(2), cst("2026-10-09 00:30"), Priority::Normal),
            cst("2026-10-09 02:30")
        );
    }

    #[test]
    fn the_category_picks_the_clock() {
        assert_eq!(Sla::of_category(24, None), Sla::Hours(24));
        assert_eq!(Sla::of_category(24, Some(5)), Sla::WorkingDays(5));
    }

    #[test]
    fn a_pause_moves_the_deadline() {
        let cal = crate::domain::calendar::tests::calendar_2026();
        let c = clock(&cal);
        let due = cst("2026-10-08 18:00");
        // Paused over the whole National Day holiday: no working time stood still.
        assert_eq!(
            c.resumed(
                Sla::WorkingDays(5),
                due,
                cst("2026-09-30 23:00"),
                cst("2026-10-07 23:00")
            ),
            cst("2026-10-08 19:00")
        );
        // Three hours on a working day move a working-day deadline three working hours.
        assert_eq!(
            c.resumed(
                Sla::WorkingDays(5),
                due,
                cst("2026-09-29 09:00"),
                cst("2026-09-29 12:00")
            ),
            cst("2026-10-08 21:00")
        );
        // Hour SLAs move by the calendar time.
        assert_eq!(
            c.resumed(
                Sla::Hours(48),
                due,
                cst("2026-10-01 09:00"),
                cst("2026-10-02 09:00")
            ),
            cst("2026-10-09 18:00")
        );
        assert_eq!(
            c.resumed(
                Sla::Hours(48),
                due,
                cst("2026-10-02 09:00"),
                cst("2026-10-01 09:00")
            ),
            due
        );
    }

    #[test]
    fn extensions_count_working_days() {
        let cal = crate::domain::calendar::tests::calendar_2026();
        let c = clock(&cal);
        assert_eq!(
            c.extended(cst("2026-09-30 18:00"), 1),
            cst("2026-10-08 18:00")
        );
        assert_eq!(
            c.extended(cst("2026-10-09 18:00"), 2),
            cst("2026-10-12 18:00")
        );
    }

    #[test]
    fn warnings_come_at_the_fraction() {
        let from = t(1, 0, 0, 0);
        let due = t(2, 0, 0, 0);
        assert_eq!(warn_at(from, due, 0.8), t(1, 19, 12, 0));
        assert_eq!(warn_at(from, due, 1.5), due);
        assert_eq!(warn_at(due, from, 0.8), due);
    }

    #[test]
    fn on_time_includes_the_deadline() {
        let due = t(2, 9, 0, 0);
        assert!(on_time(t(2, 8, 59, 59), due));
        assert!(on_time(due, due));
        assert!(!on_time(t(2, 9, 0, 1), due));
    }
}
