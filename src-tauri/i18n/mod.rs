//! The one catalogue of user-facing text (`catalog.json`: key -> English and Korean), used by
//! the CLI, the error messages and — handed over by a Tauri command — the web page. The
//! language follows the OS locale (`LC_ALL`, `LC_MESSAGES`, `LANG`; `STACKDROP_LANG` wins)
//! unless the person picks one in the app.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

mod errors;
pub use errors::{missing_secret, missing_secret_in_words, secret_label, Localized};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// `ko`, `ko_KR.UTF-8`, `ko-KR` -> Korean; `en…`, `C`, `POSIX` -> English; else `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let l = s.trim().to_ascii_lowercase();
        if l.starts_with("ko") {
            Some(Lang::Ko)
        } else if l.starts_with("en") || l == "c" || l.starts_with("c.") || l == "posix" {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language the environment asks for (the first of `STACKDROP_LANG`, `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` that is set), English if none names one we have.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Lang {
        ["STACKDROP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.is_empty()))
            .and_then(|v| Lang::parse(&v))
            .unwrap_or(Lang::En)
    }
}

#[derive(Deserialize)]
struct Entry {
    en: String,
    ko: String,
}

static CATALOG: LazyLock<HashMap<String, Entry>> =
    LazyLock::new(|| serde_json::from_str(include_str!("catalog.json")).expect("catalog.json is valid"));

static CURRENT: AtomicU8 = AtomicU8::new(0);

pub fn set(lang: Lang) {
    CURRENT.store(lang as u8, Ordering::Relaxed);
}

pub fn current() -> Lang {
    if CURRENT.load(Ordering::Relaxed) == Lang::Ko as u8 {
        Lang::Ko
    } else {
        Lang::En
    }
}

/// Set the language from the process environment.
pub fn init_from_env() {
    set(Lang::from_env(&|k| std::env::var(k).ok()));
}

fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
    CATALOG.get(key).map(|e| match lang {
        Lang::En => e.en.as_str(),
        Lang::Ko => e.ko.as_str(),
    })
}

/// The text for `key` in the current language (the key itself if the catalogue lacks it,
/// which a test prevents).
pub fn t(key: &'static str) -> &'static str {
    lookup(key, current()).unwrap_or(key)
}

/// [`t`] with `{name}` placeholders filled in.
pub fn tf(key: &'static str, args: &[(&str, &dyn Display)]) -> String {
    tf_in(current(), key, args)
}

/// [`tf`] in a given language.
pub fn tf_in(lang: Lang, key: &'static str, args: &[(&str, &dyn Display)]) -> String {
    let mut s = lookup(key, lang).unwrap_or(key).to_owned();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}

/// Every entry in `lang`, for the page.
pub fn entries(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    CATALOG
        .iter()
        .map(|(k, e)| {
            (
                k.as_str(),
                match lang {
                    Lang::En => e.en.as_str(),
                    Lang::Ko => e.ko.as_str(),
                },
            )
        })
        .collect()
}

/// Every key, for the completeness tests.
pub fn keys() -> impl Iterator<Item = &'static str> {
    CATALOG.keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_lowercase()))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn every_key_has_both_languages_with_the_same_placeholders() {
        assert!(CATALOG.len() > 200);
        for (key, e) in CATALOG.iter() {
            assert!(!e.en.trim().is_empty(), "{key}: no English");
            assert!(!e.ko.trim().is_empty(), "{key}: no Korean");
            assert_eq!(placeholders(&e.en), placeholders(&e.ko), "{key}: placeholders differ");
        }
    }

    #[test]
    fn locale_names() {
        assert_eq!(Lang::parse("ko_KR.UTF-8"), Some(Lang::Ko));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("de_DE"), None);
        let env = |k: &str| match k {
            "LC_ALL" => Some(String::new()),
            "LANG" => Some("ko_KR.UTF-8".into()),
            _ => None,
        };
        assert_eq!(Lang::from_env(&env), Lang::Ko);
        assert_eq!(Lang::from_env(&|_| None), Lang::En);
    }

    #[test]
    fn fills_placeholders_and_follows_the_language() {
        assert_eq!(
            lookup("err.stalled", Lang::En).unwrap(),
            "the upload stalled: the server accepted no data for {secs} s"
        );
        assert!(lookup("err.stalled", Lang::Ko).unwrap().contains("{secs}초"));
        assert_eq!(
            tf("err.timeout", &[("url", &"http://x")]),
            format!("{}", t("err.timeout").replace("{url}", "http://x"))
        );
    }
}
