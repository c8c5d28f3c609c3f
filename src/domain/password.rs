//! Password policy applied when a user sets or changes a password.

use thiserror::Error;

pub const MIN_LENGTH: usize = 10;
/// Bounds the work a slow password hash does on attacker-supplied input.
pub const MAX_LENGTH: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PasswordPolicyError {
    #[error("password must be at least {min} characters")]
    TooShort { min: usize },
    #[error("password must be at most {max} characters")]
    TooLong { max: usize },
    #[error(
        "password must mix at least two of: lower-case letters, upper-case letters, digits, symbols"
    )]
    SingleClass,
    #[error("password must not be the same as the e-mail address or its user name")]
    SameAsEmail,
    #[error("password is too common; choose one that is harder to guess")]
    TooCommon,
}

/// Lower-cased passwords that appear near the top of public leak lists,
/// including ones popular in China. Entries shorter than [`MIN_LENGTH`] are
/// left out because the length rule already rejects them.
const COMMON_PASSWORDS: &[&str] = &[
    "password123",
    "password1!",
    "password12",
    "password1234",
    "password12345",
    "password!1",
    "passw0rd123",
    "p@ssw0rd123",
    "p@ssword123",
    "1234567890",
    "12345678910",
    "123456789a",
    "123456789q",
    "123456789z",
    "a123456789",
    "a1234567890",
    "q123456789",
    "1234567890a",
    "1234567890q",
    "0123456789",
    "0987654321",
    "9876543210",
    "1111111111",
    "0000000000",
    "1212121212",
    "1122334455",
    "1234512345",
    "1234554321",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "qwertyuiop1",
    "qwertyuiop123",
    "qwerty123!",
    "1qaz2wsx3edc",
    "1qaz2wsx3e",
    "1qaz@wsx3edc",
    "1qazxsw23edc",
    "zaq12wsxcde3",
    "zaq1zaq1zaq1",
    "zaq1xsw2cde3",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "q1w2e3r4t5y6",
    "1q2w3e4r5t6y7u",
    "qazwsxedc123",
    "qazwsxedcrfv",
    "asdfghjkl1",
    "asdfghjkl123",
    "zxcvbnm123",
    "zxcvbnm1234",
    "abc1234567",
    "abc123456789",
    "abcd123456",
    "abcd1234567",
    "abcdefg123",
    "abcdef123456",
    "abcdefghij",
    "abc123abc123",
    "admin12345",
    "admin123456",
    "admin@1234",
    "admin@12345",
    "administrator",
    "administrator1",
    "root123456",
    "test123456",
    "welcome123",
    "welcome1234",
    "letmein123",
    "iloveyou12",
    "iloveyou123",
    "iloveyou1!",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "monkey12345",
    "dragon12345",
    "superman123",
    "changeme123",
    "woaini1314",
    "woaini123456",
    "5201314520",
    "5201314521",
    "52013145201314",
    "1314520520",
    "13145201314",
    "wangyang123",
    "zhangwei123",
    "aini1314520",
    "woaiwojia123",
    "qq123456789",
    "qq1234567890",
    "a123456789a",
    "aa12345678",
    "aa123456789",
    "a1b2c3d4e5",
    "a1b2c3d4e5f6",
    "1a2b3c4d5e",
];

/// `email` is the address of the account the password belongs to.
pub fn check_password(password: &str, email: &str) -> Result<(), PasswordPolicyError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordPolicyError::TooShort { min: MIN_LENGTH });
    }
    if length > MAX_LENGTH {
        return Err(PasswordPolicyError::TooLong { max: MAX_LENGTH });
    }
    if character_classes(password) < 2 {
        return Err(PasswordPolicyError::SingleClass);
    }

    let lowered = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local_part = email
        .rsplit_once('@')
        .map_or(email.as_str(), |(local, _)| local);
    if lowered == email || lowered == local_part {
        return Err(PasswordPolicyError::SameAsEmail);
    }
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(PasswordPolicyError::TooCommon);
    }
    Ok(())
}

fn character_classes(password: &str) -> usize {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_ascii_digit() {
            digit = true;
        } else {
            other = true;
        }
    }
    [lower, upper, digit, other]
        .into_iter()
        .filter(|&b| b)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "zhang.wei@example.com";

    #[test]
    fn accepts_reasonable_passwords() {
        assert_eq!(check_password("Tianjin-harbour", EMAIL), Ok(()));
        assert_eq!(check_password("correct horse", EMAIL), Ok(()));
        assert_eq!(check_password("企业服务平台密码2024", EMAIL), Ok(()));
    }

    #[test]
    fn too_short_counts_characters_not_bytes() {
        assert_eq!(
            check_password("Abc12345!", EMAIL),
            Err(PasswordPolicyError::TooShort { min: 10 })
        );
        // Nine CJK characters are 27 bytes but still too short.
        assert_eq!(
            check_password("企业服务平台密码1", EMAIL),
            Err(PasswordPolicyError::TooShort { min: 10 })
        );
        assert_eq!(check_password("Abc12345!x", EMAIL), Ok(()));
    }

    #[test]
    fn too_long() {
        let at_limit = format!("Aa{}", "x".repeat(254));
        assert_eq!(check_password(&at_limit, EMAIL), Ok(()));
        let over = format!("Aa{}", "x".repeat(255));
        assert_eq!(
            check_password(&over, EMAIL),
            Err(PasswordPolicyError::TooLong { max: 256 })
        );
    }

    #[test]
    fn single_class() {
        for password in ["abcdefghijkl", "ABCDEFGHIJKL", "9384756102", "!@#$%^&*()_+"] {
            assert_eq!(
                check_password(password, EMAIL),
                Err(PasswordPolicyError::SingleClass),
                "{password}"
            );
        }
        assert_eq!(check_password("abcdefghij1", EMAIL), Ok(()));
        assert_eq!(check_password("abcdefghijK", EMAIL), Ok(()));
        assert_eq!(check_password("abcdefghij ", EMAIL), Ok(()));
    }

    #[test]
    fn same_as_email_or_local_part() {
        assert_eq!(
            check_password("Zhang.Wei@Example.com", EMAIL),
            Err(PasswordPolicyError::SameAsEmail)
        );
        assert_eq!(
            check_password("ZHANG.WEI.", "zhang.wei.@example.com"),
            Err(PasswordPolicyError::SameAsEmail)
        );
        assert_eq!(
            check_password("zhang.wei8", "Zhang.Wei8@example.com"),
            Err(PasswordPolicyError::SameAsEmail)
        );
        assert_eq!(
            check_password("zhang.wei88", "zhang.wei8@example.com"),
            Ok(())
        );
    }

    #[test]
    fn too_common_is_case_insensitive() {
        for password in [
            "password123",
            "PassWord123",
            "Woaini1314",
            "1qaz2wsx3edc",
            "1Q2W3E4R5T",
            "iloveyou12",
        ] {
            assert_eq!(
                check_password(password, EMAIL),
                Err(PasswordPolicyError::TooCommon),
                "{password}"
            );
        }
    }

    #[test]
    fn common_list_is_normalized() {
        assert!(COMMON_PASSWORDS.len() >= 100);
        for entry in COMMON_PASSWORDS {
            assert!(entry.chars().count() >= MIN_LENGTH, "{entry} too short");
            assert_eq!(entry.to_lowercase(), *entry, "{entry} not lower-case");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            PasswordPolicyError::TooShort { min: 10 }.to_string(),
            "password must be at least 10 characters"
        );
        assert_eq!(
            PasswordPolicyError::SingleClass.to_string(),
            "password must mix at least two of: lower-case letters, upper-case letters, digits, symbols"
        );
    }
}
