//! What a refresh token is for.

named_enum! {
    pub enum TokenKind {
        /// A rotating refresh token of the API.
        Api => "api",
        /// A console sign-in behind a cookie: never rotated, refused by `/auth/refresh`.
        Web => "web",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        crate::domain::assert_names(&TokenKind::ALL, &["api", "web"]);
    }
}
