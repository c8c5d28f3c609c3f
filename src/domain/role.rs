//! Who a user is to the system; the role decides what they may see and do.

named_enum! {
    pub enum Role {
        Enterprise => "enterprise",
        Official => "official",
        Admin => "admin",
    }
}

impl Role {
    /// Government staff: they see internal records and work on tickets.
    pub const fn is_staff(self) -> bool {
        matches!(self, Self::Official | Self::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        crate::domain::assert_names(&Role::ALL, &["enterprise", "official", "admin"]);
        assert!(!Role::Enterprise.is_staff());
        assert!(Role::Official.is_staff() && Role::Admin.is_staff());
    }
}
