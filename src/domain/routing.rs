//! Choosing which official a new or returned ticket is assigned to.

use chrono::NaiveDateTime;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<Id> {
    pub id: Id,
    pub open_tickets: i64,
    pub last_assigned_at: Option<NaiveDateTime>,
}

/// Picks the least loaded official, spreading ties by who waited longest
/// since their last assignment. Someone never assigned has waited longest of
/// all, which `Option`'s ordering (`None` before any `Some`) gives for free.
/// Remaining ties go to the earliest candidate, so callers that pass a stable
/// order get a deterministic choice.
pub fn choose<Id: Clone>(candidates: &[Candidate<Id>]) -> Option<Id> {
    candidates
        .iter()
        // `min_by_key` keeps the first of equal minima.
        .min_by_key(|c| (c.open_tickets, c.last_assigned_at))
        .map(|c| c.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(hour: u32) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(2025, 3, 1)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .map(Some)
            .expect("valid time")
    }

    fn candidate(
        id: &'static str,
        open_tickets: i64,
        last: Option<NaiveDateTime>,
    ) -> Candidate<&'static str> {
        Candidate {
            id,
            open_tickets,
            last_assigned_at: last,
        }
    }

    #[test]
    fn empty_gives_none() {
        assert_eq!(choose::<u32>(&[]), None);
    }

    #[test]
    fn single_candidate() {
        assert_eq!(choose(&[candidate("a", 40, at(9))]), Some("a"));
    }

    #[test]
    fn fewest_open_tickets_wins() {
        let candidates = [
            candidate("a", 3, None),
            candidate("b", 1, at(12)),
            candidate("c", 2, None),
        ];
        assert_eq!(choose(&candidates), Some("b"));
    }

    #[test]
    fn tie_goes_to_least_recently_assigned() {
        let candidates = [
            candidate("a", 1, at(12)),
            candidate("b", 1, at(8)),
            candidate("c", 1, at(10)),
            candidate("d", 0, at(23)),
        ];
        assert_eq!(choose(&candidates), Some("d"));
        assert_eq!(choose(&candidates[..3]), Some("b"));
    }

    #[test]
    fn never_assigned_beats_any_assignment() {
        let candidates = [
            candidate("a", 1, at(0)),
            candidate("b", 1, None),
            candidate("c", 2, None),
        ];
        assert_eq!(choose(&candidates), Some("b"));
    }

    #[test]
    fn full_tie_goes_to_first_in_order() {
        let never = [
            candidate("a", 1, None),
            candidate("b", 1, None),
            candidate("c", 1, None),
        ];
        assert_eq!(choose(&never), Some("a"));
        let same_time = [
            candidate("x", 5, at(7)),
            candidate("y", 5, at(7)),
            candidate("z", 6, None),
        ];
        assert_eq!(choose(&same_time), Some("x"));
    }

    #[test]
    fn works_with_owned_ids() {
        let candidates = [
            Candidate {
                id: "seven".to_owned(),
                open_tickets: 2,
                last_assigned_at: None,
            },
            Candidate {
                id: "three".to_owned(),
                open_tickets: 0,
                last_assigned_at: at(1),
            },
        ];
        assert_eq!(choose(&candidates), Some("three".to_owned()));
    }
}
