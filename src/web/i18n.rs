//! Languages: one message catalogue per language, compiled in from `locales/`. Pages and
//! templates name messages by key; a test keeps the catalogues and the keys in use in step.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") {
            Some(Lang::ZhCn)
        } else if tag == "en" || tag.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The best of our languages for an `Accept-Language` header (q-values honoured;
    /// zh-CN when nothing matches).
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::ZhCn;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::ZhCn, |(_, l)| l)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::ZhCn => include_str!("../../locales/zh-CN.toml"),
            Lang::En => include_str!("../../locales/en.toml"),
        }
    }
}

/// The messages of one language, flattened to dotted keys (`ticket.status.closed`).
#[derive(Debug)]
pub struct Catalogue {
    messages: HashMap<String, String>,
}

impl Catalogue {
    pub fn load(lang: Lang) -> anyhow::Result<Catalogue> {
        let table: toml::Table = lang
            .source()
            .parse()
            .map_err(|e| anyhow::anyhow!("locales/{}.toml: {e}", lang.tag()))?;
        let mut messages = HashMap::new();
        flatten("", &table, &mut messages)?;
        Ok(Catalogue { messages })
    }

    /// The message, or the key itself so a gap shows on the page (and fails a test).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map_or(key, String::as_str)
    }

    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.messages.keys()
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
) -> anyhow::Result<()> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => flatten(&full, t, out)?,
            other => anyhow::bail!("{full}: expected a string, found {other}"),
        }
    }
    Ok(())
}

/// Both catalogues, loaded once at start.
#[derive(Debug)]
pub struct Catalogues {
    zh: Catalogue,
    en: Catalogue,
}

impl Catalogues {
    pub fn load() -> anyhow::Result<Catalogues> {
        Ok(Catalogues {
            zh: Catalogue::load(Lang::ZhCn)?,
            en: Catalogue::load(Lang::En)?,
        })
    }

    pub fn get(&self, lang: Lang) -> &Catalogue {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn accept_language_picks_our_best_match() {
        assert_eq!(Lang::negotiate(None), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr-FR,en;q=0.5,zh;q=0.8")), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("fr-FR,de")), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("zh-TW;q=0.1, en-US;q=0.2")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en;q=0")), Lang::ZhCn);
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let all = Catalogues::load().unwrap();
        let zh: BTreeSet<_> = all.get(Lang::ZhCn).keys().collect();
        let en: BTreeSet<_> = all.get(Lang::En).keys().collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "missing in en.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "missing in zh-CN.toml: {only_en:?}");
    }

    /// Every key named in a template (by the t, tf and ts helpers) or as a string literal in
    /// the web code (field, flash and the other catalogue sections) exists.
    #[test]
    fn every_key_in_use_exists() {
        let all = Catalogues::load().unwrap();
        let mut sources = Vec::new();
        // Folders too: the admin pages live in their own.
        let mut dirs = vec![
            std::path::PathBuf::from("templates/web"),
            std::path::PathBuf::from("src/web"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                sources.push((path.display().to_string(), text));
            }
        }
        let markers = [
            ".t(\"",
            ".tf(\"",
            ".ts(\"",
            "\"field.",
            "\"flash.",
            "\"status.",
            "\"rating.",
            "\"priority.",
            "\"people.",
            "\"due.",
            "\"sla.",
            "\"event.",
        ];
        let mut missing = Vec::new();
        let mut seen = 0;
        for (file, text) in &sources {
            for marker in markers {
                // A literal marker keeps its section as the start of the key.
                let section = marker.strip_prefix('"').unwrap_or_default();
                for piece in text.split(marker).skip(1) {
                    let rest = piece.split('"').next().unwrap_or_default();
                    let key = format!("{section}{rest}");
                    let key = key.as_str();
                    if key.is_empty() || key.contains('{') || key.ends_with('.') {
                        continue;
                    }
                    seen += 1;
                    if !all.get(Lang::ZhCn).has(key) {
                        missing.push(format!("{file}: {key}"));
                    }
                }
            }
        }
        assert!(seen > 50, "the key scan found only {seen} keys");
        assert!(
            missing.is_empty(),
            "keys missing from the catalogues: {missing:#?}"
        );
    }
}
