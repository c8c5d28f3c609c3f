//! An enterprise's standing and the district's decisions about it, and the roles of the people
//! who share one enterprise.
//!
//! A new enterprise is `pending` while the district reviews it (when review is on), then
//! `active` or `rejected`; an active one can be `suspended` and reactivated. Its users may sign
//! in and read their account while pending or rejected, but only an active enterprise files;
//! a suspended one's users cannot sign in at all.

use thiserror::Error;

named_enum! {
    pub enum EnterpriseStatus {
        Pending => "pending",
        Active => "active",
        Rejected => "rejected",
        Suspended => "suspended",
    }
}

named_enum! {
    /// What a change of an enterprise's status is called in its history.
    pub enum EnterpriseEventKind {
        Approved => "approved",
        Rejected => "rejected",
        Suspended => "suspended",
        Reactivated => "reactivated",
    }
}

named_enum! {
    /// An enterprise user's standing among colleagues: owners invite and manage the others.
    pub enum EnterpriseRole {
        Owner => "owner",
        Member => "member",
    }
}

impl EnterpriseStatus {
    /// Whether its users may sign in (and keep their sessions).
    pub const fn may_sign_in(self) -> bool {
        !matches!(self, Self::Suspended)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ReviewError {
    /// A rejection says why, so the enterprise can fix it and the decision can be reviewed.
    #[error("a reason is required to reject an enterprise")]
    ReasonRequired,
    #[error("an enterprise cannot go from {0} to {1}")]
    NotAllowed(EnterpriseStatus, EnterpriseStatus),
}

/// The admin's move of an enterprise from `from` to `to`: approve or reject a pending one,
/// suspend an active one or reactivate a suspended one. Anything else, staying put included,
/// is refused, so every recorded event is a real change (the service answers a request for
/// the current status as the no-op it is, before asking).
pub fn review(
    from: EnterpriseStatus,
    to: EnterpriseStatus,
    reason: Option<&str>,
) -> Result<EnterpriseEventKind, ReviewError> {
    use EnterpriseStatus::*;
    let kind = match (from, to) {
        (Pending, Active) => EnterpriseEventKind::Approved,
        (Pending, Rejected) => EnterpriseEventKind::Rejected,
        (Active, Suspended) => EnterpriseEventKind::Suspended,
        (Suspended, Active) => EnterpriseEventKind::Reactivated,
        _ => return Err(ReviewError::NotAllowed(from, to)),
    };
    if kind == EnterpriseEventKind::Rejected && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(ReviewError::ReasonRequired);
    }
    Ok(kind)
}

/// Whether a change to the owners leaves the enterprise with at least one active owner.
/// `active_owners` counts them before the change; `target_is_active_owner` says whether the
/// user changed is one of them and `stays_active_owner` whether they still are after it.
pub const fn leaves_an_owner(
    active_owners: i64,
    target_is_active_owner: bool,
    stays_active_owner: bool,
) -> bool {
    !(target_is_active_owner && !stays_active_owner && active_owners <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use EnterpriseStatus::*;

    #[test]
    fn names() {
        crate::domain::assert_names(
            &EnterpriseStatus::ALL,
            &["pending", "active", "rejected", "suspended"],
        );
        crate::domain::assert_names(
            &EnterpriseEventKind::ALL,
            &["approved", "rejected", "suspended", "reactivated"],
        );
        crate::domain::assert_names(&EnterpriseRole::ALL, &["owner", "member"]);
    }

    #[test]
    fn only_suspension_keeps_users_out() {
        assert!(Pending.may_sign_in() && Active.may_sign_in() && Rejected.may_sign_in());
        assert!(!Suspended.may_sign_in());
    }

    #[test]
    fn the_allowed_moves_and_their_names() {
        assert_eq!(
            review(Pending, Active, None),
            Ok(EnterpriseEventKind::Approved)
        );
        assert_eq!(
            review(Pending, Rejected, Some("licence unreadable")),
            Ok(EnterpriseEventKind::Rejected)
        );
        assert_eq!(
            review(Active, Suspended, None),
            Ok(EnterpriseEventKind::Suspended)
        );
        assert_eq!(
            review(Suspended, Active, Some("paid")),
            Ok(EnterpriseEventKind::Reactivated)
        );
    }

    #[test]
    fn rejection_needs_a_visible_reason() {
        for reason in [None, Some(""), Some("  ")] {
            assert_eq!(
                review(Pending, Rejected, reason),
                Err(ReviewError::ReasonRequired)
            );
        }
    }

    #[test]
    fn every_other_move_is_refused() {
        let allowed = [
            (Pending, Active),
            (Pending, Rejected),
            (Active, Suspended),
            (Suspended, Active),
        ];
        for from in EnterpriseStatus::ALL {
            for to in EnterpriseStatus::ALL {
                if allowed.contains(&(from, to)) {
                    continue;
                }
                assert_eq!(
                    review(from, to, Some("why")),
                    Err(ReviewError::NotAllowed(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn the_last_active_owner_stays() {
        assert!(!leaves_an_owner(1, true, false));
        assert!(leaves_an_owner(2, true, false));
        assert!(leaves_an_owner(1, true, true));
        assert!(leaves_an_owner(1, false, false));
        assert!(leaves_an_owner(0, false, false));
    }
}
