//! What text a person may give as a name, a title, a message or an email address: no control
//! or format characters that hide or reorder what a reader sees, and something visible.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Why a piece of text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    /// A control character (NUL, escape, …), or a line break or tab in a one-line field.
    Control,
    /// An invisible format character: zero-width spaces and joiners, bidi overrides, soft hyphen.
    Format,
    /// Only spaces, marks or other characters that show nothing.
    Invisible,
}

impl TextFault {
    pub fn message(self) -> &'static str {
        match self {
            TextFault::Control => "must not contain control characters",
            TextFault::Format => {
                "must not contain invisible format characters (zero-width or direction marks)"
            }
            TextFault::Invisible => "must contain at least one visible character",
        }
    }
}

/// The bidi embedding, override and isolate controls: they reorder what is shown (the
/// "Trojan source" trick), so even free text refuses them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn shows_something(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark
                | GeneralCategory::EnclosingMark
                | GeneralCategory::Format
                | GeneralCategory::Control
                | GeneralCategory::Unassigned
                | GeneralCategory::PrivateUse
        )
        && !matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
        )
}

/// A one-line value (a name, a title): no control character at all, no format character.
pub fn check_line(value: &str) -> Result<(), TextFault> {
    if value.chars().any(char::is_control) {
        return Err(TextFault::Control);
    }
    if value
        .chars()
        .any(|c| c.general_category() == GeneralCategory::Format)
    {
        return Err(TextFault::Format);
    }
    visible(value)
}

/// Free text (a description, a message): line breaks and tabs are fine, other controls and
/// bidi controls are not; zero-width joiners stay, since emoji sequences need them.
pub fn check_prose(value: &str) -> Result<(), TextFault> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(TextFault::Control);
    }
    if value.chars().any(is_bidi_control) {
        return Err(TextFault::Format);
    }
    visible(value)
}

fn visible(value: &str) -> Result<(), TextFault> {
    if value.is_empty() || value.chars().any(shows_something) {
        Ok(())
    } else {
        Err(TextFault::Invisible)
    }
}

/// The one form of an email address used for lookup and uniqueness: trimmed, NFKC (full-width
/// and other compatibility letters become ASCII) and lower-cased. An address that is still not
/// ASCII is refused by the caller: look-alike letters (a dotted capital I, Cyrillic а) would
/// otherwise be new accounts that read like existing ones, and mail to them rarely arrives.
pub fn normalize_email(value: &str) -> String {
    value.trim().nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_and_case_meet_in_one_address() {
        assert_eq!(
            normalize_email(" ｅnterprise1@Example.COM "),
            "enterprise1@example.com"
        );
        assert_eq!(
            normalize_email("ＷＡＮＧ＠ＥＸＡＭＰＬＥ．ＣＮ"),
            "wang@example.cn"
        );
        assert_eq!(normalize_email("\u{212A}elvin@x.cn"), "kelvin@x.cn");
        assert!(!normalize_email("İnfo@example.com").is_ascii());
        assert!(!normalize_email("user\u{200b}@example.com").is_ascii());
    }

    #[test]
    fn one_line_fields_refuse_controls_format_characters_and_blankness() {
        for ok in [
            "王五",
            "Li Ming",
            "上海某某科技有限公司",
            "O'Brien-Smith",
            "a",
        ] {
            assert_eq!(check_line(ok), Ok(()), "{ok:?}");
        }
        for (bad, fault) in [
            ("a\0b", TextFault::Control),
            ("line\nbreak", TextFault::Control),
            ("tab\there", TextFault::Control),
            ("\u{1b}[31mred", TextFault::Control),
            ("\u{202e}\u{200b}", TextFault::Format),
            ("abc\u{202e}cba", TextFault::Format),
            ("zero\u{200b}width", TextFault::Format),
            ("\u{feff}bom", TextFault::Format),
            ("soft\u{ad}hyphen", TextFault::Format),
            ("   ", TextFault::Invisible),
            ("\u{3000}\u{3000}", TextFault::Invisible),
            ("\u{0301}\u{0302}", TextFault::Invisible),
            ("\u{3164}", TextFault::Invisible),
        ] {
            assert_eq!(check_line(bad), Err(fault), "{bad:?}");
        }
    }

    #[test]
    fn prose_keeps_line_breaks_and_emoji_but_not_nul_or_bidi_overrides() {
        for ok in [
            "第一行\n第二行\r\n\t缩进",
            "family 👨\u{200d}👩\u{200d}👧",
            "",
        ] {
            assert_eq!(check_prose(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(check_prose("nul\0"), Err(TextFault::Control));
        assert_eq!(check_prose("\u{7f}"), Err(TextFault::Control));
        assert_eq!(check_prose("x\u{2066}y"), Err(TextFault::Format));
        assert_eq!(check_prose("\n\n \t"), Err(TextFault::Invisible));
        assert_eq!(check_prose("\u{200b}\u{200b}"), Err(TextFault::Invisible));
    }
}
