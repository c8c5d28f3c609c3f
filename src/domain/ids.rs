//! One id type per entity, so a call cannot pass a user's id where a ticket's is meant.
//! Ids are opaque text (UUIDv7, time-ordered: they sort by creation, which keeps keyset pages
//! and indexes tidy); any string parses, and one that names nothing is simply not found.

/// Defines id newtypes: serde and OpenAPI see a plain string, diesel a `Text` column.
macro_rules! id_types {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(
            Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[schema(value_type = String)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().simple().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        /// Read as text wherever text is taken (logs, templates, untyped parameters); the
        /// reverse needs `From`, so one kind of id never passes for another.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.0.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                String::from_sql(bytes).map(Self)
            }
        }
    )+};
}

id_types! {
    TicketId;
    AttachmentId;
    UserId;
    EnterpriseId;
    DepartmentId;
    CategoryId;
    CommentId;
    EventId;
    /// A request to extend a ticket's deadline.
    ExtensionId;
    OutboxId;
    /// A refresh token's row.
    SessionId;
    /// The refresh tokens descended from one login.
    SessionFamilyId;
    PasswordResetId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_text() {
        let first = TicketId::generate();
        assert_eq!(first.as_str().len(), 32);
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            format!("\"{first}\"")
        );
        let back: TicketId = serde_json::from_str(&format!("\"{first}\"")).unwrap();
        assert_eq!(back, first);
    }
}
