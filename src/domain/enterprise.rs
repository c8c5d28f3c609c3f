//! An enterprise's standing: a suspended enterprise's users cannot sign in or act.

named_enum! {
    pub enum EnterpriseStatus {
        Active => "active",
        Suspended => "suspended",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        crate::domain::assert_names(&EnterpriseStatus::ALL, &["active", "suspended"]);
    }
}
