//! openrc files as Horizon writes them (password and application-credential variants), read
//! line by line and never run. What a shell would do with the lines Horizon writes is done
//! here by hand: `export`/assignment, `unset`, `read -sr VAR` (the password prompt: the value
//! is asked for), `echo`, and the one-line "unset it if empty" check. Anything else — command
//! substitution, `source`, loops — stops the import with the line that holds it.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{Error, Result};

/// What the file sets. A variable whose value the file reads from the terminal
/// (`read -sr OS_PASSWORD_INPUT; export OS_PASSWORD=$OS_PASSWORD_INPUT`) is in `asked`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Openrc {
    pub vars: BTreeMap<String, String>,
    pub asked: Vec<String>,
}

impl Openrc {
    pub fn get(&self, k: &str) -> Option<String> {
        self.vars.get(k).filter(|v| !v.is_empty()).cloned()
    }
}

/// Does this text look like an openrc (some `export OS_…=` line)?
pub fn looks_like_openrc(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        let l = l.strip_prefix("export ").map(str::trim_start).unwrap_or(l);
        l.starts_with("OS_") && l.contains('=')
    })
}

/// A value that the file reads at run time rather than holds.
const ASKED: &str = "\u{0}asked\u{0}";

pub fn parse(path: &Path, text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Openrc> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let err = |what: String| Error::File { path: format!("{}:{n}", path.display()), detail: what };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "echo" | "printf" | "true" | ":" => continue,
            "unset" => {
                for w in &words[1..] {
                    vars.remove(*w);
                }
                continue;
            }
            "read" => {
                let Some(name) = words[1..].iter().rev().find(|w| !w.starts_with('-')) else {
                    return Err(err("`read` without a variable name".into()));
                };
                check_var(name).map_err(&err)?;
                vars.insert((*name).to_owned(), ASKED.to_owned());
                continue;
            }
            "if" => {
                // Horizon: if [ -z "$OS_REGION_NAME" ]; then unset OS_REGION_NAME; fi
                let v = empty_check(line).ok_or_else(|| {
                    err(format!("`{}` is not something Stackdrop reads (only export, unset, read, echo and `if [ -z \"$VAR\" ]; then unset VAR; fi`); the file is never run", short(line)))
                })?;
                if vars.get(&v).is_none_or(|x| x.is_empty()) {
                    vars.remove(&v);
                }
                continue;
            }
            _ => {}
        }
        let assignment =
            line.strip_prefix("export").filter(|r| r.starts_with(char::is_whitespace)).map(str::trim_start);
        let assignment = assignment.unwrap_or(line);
        let Some((name, value)) = assignment.split_once('=') else {
            if line.starts_with("export") {
                continue; // `export NAME` alone changes nothing we read
            }
            return Err(err(format!(
                "`{}` is not something Stackdrop reads (only export, unset, read, echo and the empty-variable check); the file is never run",
                short(line)
            )));
        };
        check_var(name).map_err(&err)?;
        let value = unquote(value, &vars, env).map_err(&err)?;
        vars.insert(name.to_owned(), value);
    }
    let asked = vars.iter().filter(|(_, v)| v.contains(ASKED)).map(|(k, _)| k.clone()).collect::<Vec<_>>();
    for k in &asked {
        vars.remove(k);
    }
    // The helper the prompt reads into is not a setting.
    let asked: Vec<String> = asked.into_iter().filter(|k| k.starts_with("OS_") && !k.ends_with("_INPUT")).collect();
    vars.retain(|k, _| !k.ends_with("_INPUT"));
    Ok(Openrc { vars, asked })
}

fn short(line: &str) -> String {
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_owned()
    }
}

fn check_var(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a variable name"))
    }
}

/// `if [ -z "$X" ]; then unset X; fi` (with `[[`, with or without quotes) → `X`.
fn empty_check(line: &str) -> Option<String> {
    let compact: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = compact.strip_prefix("if [ -z ").or_else(|| compact.strip_prefix("if [[ -z "))?;
    let (var, rest) = rest.split_once(' ')?;
    let var = var.trim_matches('"').strip_prefix('$')?.trim_matches(|c| c == '{' || c == '}');
    let rest = rest.trim_start_matches(']').trim_start();
    let unset = rest.strip_prefix("; then unset ").or_else(|| rest.strip_prefix("then unset "))?;
    let (target, tail) = unset.split_once(';')?;
    (target.trim() == var && tail.trim() == "fi").then(|| var.to_owned())
}

/// A shell word on the right of `=`: single quotes literal, double quotes and bare words
/// with `$VAR` / `${VAR}` expanded from what the file set before (and `HOME`); a trailing
/// comment after a bare word dropped.
fn unquote(
    v: &str,
    vars: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    if v.contains("$(") || v.contains('`') {
        return Err(
            "the value runs a command (`$(…)` or backquotes); Stackdrop reads openrc files, never runs them".into()
        );
    }
    let mut out = String::new();
    let mut chars = v.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'') | (None, '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (_, '$') => {
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if braced && chars.next() != Some('}') {
                    return Err("a `${…}` is not closed, or uses shell features Stackdrop does not read".into());
                }
                if name.is_empty() {
                    out.push('$');
                    continue;
                }
                // Only what the file itself set, and HOME: a hostile openrc must not copy other
                // secrets of the person's environment into a profile bound for its auth URL.
                let home = || if name == "HOME" { env("HOME") } else { None };
                match vars.get(&name).cloned().or_else(home) {
                    Some(x) => out.push_str(&x),
                    None => {
                        return Err(format!(
                            "the value uses ${name}, which the file does not set (Stackdrop takes only what the file sets itself, and HOME)"
                        ))
                    }
                }
            }
            (None, c) if c.is_whitespace() => {
                let rest: String = chars.collect();
                if rest.trim_start().starts_with('#') || rest.trim().is_empty() {
                    break;
                }
                return Err("a value with spaces must be quoted".into());
            }
            (_, c) => out.push(c),
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Openrc> {
        parse(Path::new("x-openrc.sh"), text, &|k| (k == "HOME").then(|| "/home/u".to_owned()))
    }

    #[test]
    fn values_quotes_and_expansion() {
        let o = p("export A='a b $X'\nexport B=\"in $A\"\nC=${HOME}/ca.pem # trailing\nexport D=plain\n").unwrap();
        assert_eq!(o.vars["A"], "a b $X");
        assert_eq!(o.vars["B"], "in a b $X");
        assert_eq!(o.vars["C"], "/home/u/ca.pem");
        assert_eq!(o.vars["D"], "plain");
    }

    #[test]
    fn refusals_name_the_line() {
        let e = p("export OS_AUTH_URL=http://k\nexport OS_PASSWORD=$(pass show os)\n").unwrap_err().to_string();
        assert!(e.contains("x-openrc.sh:2") && e.contains("runs a command"), "{e}");
        let e = p("\nsource other.sh\n").unwrap_err().to_string();
        assert!(e.contains("x-openrc.sh:2") && e.contains("source other.sh"), "{e}");
        let e = p("export OS_X=\"open\n").unwrap_err().to_string();
        assert!(e.contains("quote is not closed"), "{e}");
        let e = p("export OS_X=$NOPE\n").unwrap_err().to_string();
        assert!(e.contains("$NOPE"), "{e}");
    }

    /// A hostile openrc must not copy the person's other secrets into a profile bound for its
    /// own auth URL: `$VAR` takes only what the file set before, and HOME.
    #[test]
    fn expansion_reads_only_the_file_and_home() {
        let env = |k: &str| match k {
            "HOME" => Some("/home/u".to_owned()),
            "AWS_SECRET_ACCESS_KEY" | "OS_PASSWORD" => Some("other-secret".to_owned()),
            _ => None,
        };
        for line in ["export OS_PASSWORD=$AWS_SECRET_ACCESS_KEY", "export OS_USERNAME=\"u-${OS_PASSWORD}\""] {
            let e = parse(Path::new("evil-openrc.sh"), &format!("{line}\n"), &env).unwrap_err().to_string();
            assert!(e.contains("which the file does not set") && !e.contains("other-secret"), "{e}");
        }
        let o = parse(Path::new("ok-openrc.sh"), "export A=x\nexport OS_CACERT=$HOME/ca-$A.pem\n", &env).unwrap();
        assert_eq!(o.vars["OS_CACERT"], "/home/u/ca-x.pem");
        let e = p("export OS_X=a b\n").unwrap_err().to_string();
        assert!(e.contains("must be quoted"), "{e}");
    }

    #[test]
    fn empty_check_and_unset() {
        let o = p("export OS_REGION_NAME=\"\"\nif [ -z \"$OS_REGION_NAME\" ]; then unset OS_REGION_NAME; fi\nexport OS_TENANT_ID=x\nunset OS_TENANT_ID OS_TENANT_NAME\n").unwrap();
        assert!(o.vars.is_empty(), "{o:?}");
        let o = p("export OS_REGION_NAME=R1\nif [ -z \"$OS_REGION_NAME\" ]; then unset OS_REGION_NAME; fi\n").unwrap();
        assert_eq!(o.vars["OS_REGION_NAME"], "R1");
    }

    #[test]
    fn read_prompt_marks_the_password_as_asked() {
        let o = p("echo \"Please enter your OpenStack Password: \"\nread -sr OS_PASSWORD_INPUT\nexport OS_PASSWORD=$OS_PASSWORD_INPUT\n").unwrap();
        assert_eq!(o.asked, vec!["OS_PASSWORD".to_owned()]);
        assert!(o.vars.is_empty());
    }

    #[test]
    fn detection() {
        assert!(looks_like_openrc("#!/usr/bin/env bash\nexport OS_AUTH_URL=http://k\n"));
        assert!(!looks_like_openrc("clouds:\n  a: {}\n"));
    }
}
