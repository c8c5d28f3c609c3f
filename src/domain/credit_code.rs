//! Unified social credit code (统一社会信用代码, GB 32100-2015).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// The standard's 31-symbol alphabet; a symbol's index is its numeric value.
/// I, O, Z, S and V are left out because they are easily confused with digits.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights for positions 1..=17: 3^(i-1) mod 31.
const WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

const LENGTH: usize = 18;

/// A validated unified social credit code, always stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CreditCodeError {
    #[error("credit code must be 18 characters, got {found}")]
    Length { found: usize },
    #[error(
        "credit code has an invalid character '{character}' at position {position}; \
         only digits and upper-case letters other than I, O, Z, S, V are allowed"
    )]
    InvalidCharacter { position: usize, character: char },
    #[error("credit code check character is wrong: expected '{expected}', found '{found}'")]
    CheckCharacter { expected: char, found: char },
}

impl CreditCode {
    /// Accepts surrounding whitespace and lower-case letters because codes are
    /// commonly copied from licences and typed by hand.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let normalized = input.trim().to_ascii_uppercase();
        // Count characters, not bytes, so a full-width character is reported
        // as an invalid character rather than as a length error.
        let found = normalized.chars().count();
        if found != LENGTH {
            return Err(CreditCodeError::Length { found });
        }

        let mut values = [0usize; LENGTH];
        for (index, character) in normalized.chars().enumerate() {
            values[index] = value_of(character).ok_or(CreditCodeError::InvalidCharacter {
                position: index + 1,
                character,
            })?;
        }

        let sum: usize = WEIGHTS.iter().zip(&values).map(|(w, v)| w * v).sum();
        let check = (31 - sum % 31) % 31;
        if values[LENGTH - 1] != check {
            return Err(CreditCodeError::CheckCharacter {
                expected: symbol_of(check),
                found: symbol_of(values[LENGTH - 1]),
            });
        }
        Ok(Self(normalized))
    }

    /// Completes the first 17 characters with their check character (for generated data).
    pub fn complete(first17: &str) -> Result<Self, CreditCodeError> {
        let mut values = [0usize; LENGTH - 1];
        for (index, character) in first17.chars().enumerate().take(LENGTH - 1) {
            values[index] = value_of(character).ok_or(CreditCodeError::InvalidCharacter {
                position: index + 1,
                character,
            })?;
        }
        let sum: usize = WEIGHTS.iter().zip(&values).map(|(w, v)| w * v).sum();
        Self::parse(&format!("{first17}{}", symbol_of((31 - sum % 31) % 31)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn value_of(character: char) -> Option<usize> {
    let byte = u8::try_from(character).ok()?;
    ALPHABET.iter().position(|&symbol| symbol == byte)
}

/// Callers only pass values already reduced modulo 31.
fn symbol_of(value: usize) -> char {
    char::from(ALPHABET[value % ALPHABET.len()])
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: [&str; 4] = [
        "91440300708461136T",
        "914403001922038216",
        "91330100716105852F",
        "91110000802100433B",
    ];

    #[test]
    fn accepts_known_valid_codes() {
        for code in VALID {
            let parsed = CreditCode::parse(code).expect(code);
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(parsed.clone().into_inner(), code);
            assert_eq!(code.parse::<CreditCode>(), Ok(parsed));
        }
    }

    #[test]
    fn completes_the_check_character() {
        for code in VALID {
            assert_eq!(CreditCode::complete(&code[..17]).unwrap().as_str(), code);
        }
        assert!(CreditCode::complete("9144030070846113").is_err());
    }

    #[test]
    fn normalizes_case_and_whitespace() {
        let parsed = CreditCode::parse("  91440300708461136t\n").expect("valid");
        assert_eq!(parsed.as_str(), "91440300708461136T");
        let parsed = CreditCode::parse("91330100716105852f").expect("valid");
        assert_eq!(parsed.as_str(), "91330100716105852F");
    }

    #[test]
    fn any_single_substitution_is_rejected() {
        for code in VALID {
            let original: Vec<char> = code.chars().collect();
            for position in 0..LENGTH {
                for &symbol in ALPHABET {
                    let replacement = char::from(symbol);
                    if replacement == original[position] {
                        continue;
                    }
                    let mut mutated = original.clone();
                    mutated[position] = replacement;
                    let mutated: String = mutated.into_iter().collect();
                    assert!(
                        matches!(
                            CreditCode::parse(&mutated),
                            Err(CreditCodeError::CheckCharacter { .. })
                        ),
                        "{mutated} should be rejected"
                    );
                }
            }
        }
    }

    #[test]
    fn reports_expected_check_character() {
        assert_eq!(
            CreditCode::parse("91440300708461136A"),
            Err(CreditCodeError::CheckCharacter {
                expected: 'T',
                found: 'A'
            })
        );
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            CreditCode::parse("9144030070846113"),
            Err(CreditCodeError::Length { found: 16 })
        );
        assert_eq!(
            CreditCode::parse("91440300708461136T0"),
            Err(CreditCodeError::Length { found: 19 })
        );
        assert_eq!(
            CreditCode::parse("   "),
            Err(CreditCodeError::Length { found: 0 })
        );
        // Inner whitespace is not trimmed.
        assert_eq!(
            CreditCode::parse("914403007 08461136T"),
            Err(CreditCodeError::Length { found: 19 })
        );
    }

    #[test]
    fn rejects_forbidden_letters() {
        for letter in ['I', 'O', 'Z', 'S', 'V'] {
            let code = format!("91440300708461136{letter}");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::InvalidCharacter {
                    position: 18,
                    character: letter
                })
            );
            let code = format!("9{letter}440300708461136T");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::InvalidCharacter {
                    position: 2,
                    character: letter
                })
            );
        }
        // Lower-case forbidden letters are reported upper-cased.
        assert_eq!(
            CreditCode::parse("91440300708461136o"),
            Err(CreditCodeError::InvalidCharacter {
                position: 18,
                character: 'O'
            })
        );
    }

    #[test]
    fn rejects_non_ascii() {
        assert_eq!(
            CreditCode::parse("９1440300708461136T"),
            Err(CreditCodeError::InvalidCharacter {
                position: 1,
                character: '９'
            })
        );
        assert_eq!(
            CreditCode::parse("91440300708461136-"),
            Err(CreditCodeError::InvalidCharacter {
                position: 18,
                character: '-'
            })
        );
    }

    #[test]
    fn error_messages_name_the_rule() {
        assert_eq!(
            CreditCodeError::Length { found: 5 }.to_string(),
            "credit code must be 18 characters, got 5"
        );
        assert!(
            CreditCodeError::InvalidCharacter {
                position: 3,
                character: 'I'
            }
            .to_string()
            .contains("'I' at position 3")
        );
        assert!(
            CreditCodeError::CheckCharacter {
                expected: 'T',
                found: 'A'
            }
            .to_string()
            .contains("expected 'T', found 'A'")
        );
    }
}
