//! Service-level deadlines for tickets.

use chrono::{Days, NaiveDateTime, TimeDelta};

use super::ticket::{Priority, TicketStatus};

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

/// A ticket is overdue only while someone still owes work on it; once
/// resolved, lateness is judged by [`on_time`] instead.
pub fn is_overdue(status: TicketStatus, due_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    status.is_open() && now > due_at
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

    #[test]
    fn on_time_includes_the_deadline() {
        let due = t(2, 9, 0, 0);
        assert!(on_time(t(2, 8, 59, 59), due));
        assert!(on_time(due, due));
        assert!(!on_time(t(2, 9, 0, 1), due));
    }
}
