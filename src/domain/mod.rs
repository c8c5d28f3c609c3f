//! Pure types and rules: no I/O. The enums and ids below also say how they are stored (a
//! diesel `Text` column) and shown (serde, OpenAPI), so every layer shares one spelling.

use thiserror::Error;

/// Returned when parsing a name that none of an enum's variants carries.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown value \"{0}\"")]
pub struct UnknownVariant(pub String);

/// Defines a field-less enum whose `as_str`/`FromStr` names are spelled out next to each
/// variant, so the database and API spellings are reviewed in one place; a test checks they
/// agree with serde's `snake_case` names. Stored as its name in a `Text` column: a stored
/// value no variant carries fails the query (a logged internal error), never a guess.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::domain::UnknownVariant(s.to_owned())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
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
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                text.parse().map_err(|e| {
                    format!("stored {} is {e}", stringify!($name)).into()
                })
            }
        }
    };
}

/// Lets the layers outside `domain` declare their named enums the same way.
pub(crate) use named_enum;

pub mod attachment;
pub mod calendar;
pub mod credit_code;
pub mod enterprise;
pub mod ids;
pub mod outbox;
pub mod password;
pub mod role;
pub mod routing;
pub mod session;
pub mod sla;
pub mod text;
pub mod throttle;
pub mod ticket;

/// Checks an enum's names: `Display`, `FromStr` and serde all spell `expected`, and parsing
/// is exact, like the database column it reads.
#[cfg(test)]
pub(crate) fn assert_names<T>(all: &[T], expected: &[&str])
where
    T: Copy + std::fmt::Debug + PartialEq + std::fmt::Display,
    T: std::str::FromStr<Err = UnknownVariant> + for<'de> serde::Deserialize<'de>,
{
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(names, expected);
    for (&value, name) in all.iter().zip(expected) {
        assert_eq!(name.parse::<T>(), Ok(value));
        let deserializer: StrDeserializer<'_, DeError> = name.into_deserializer();
        assert_eq!(T::deserialize(deserializer), Ok(value));
    }
    assert_eq!(
        "Bogus".parse::<T>(),
        Err(UnknownVariant("Bogus".to_owned()))
    );
}
