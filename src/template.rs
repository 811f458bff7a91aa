//! Login templates: the text of a first-message login with its placeholders.
//!
//! `{user}` and `{password}` are the login pane's (or `--user`/`--password-env`'s) values;
//! `{1}`, `{2}`… and `{name}` are capture groups of `--login-after`'s regex over the
//! server's greeting. Each placeholder may name how its value is escaped: `{password:json}`
//! (inside a JSON string), `{user:url}` (percent-encoded), `{password:raw}` (as it is). In a
//! template that is JSON (it starts with `{` or `[`) values are JSON-escaped unless told
//! otherwise, so a token with a `"` in it still makes valid JSON. A `{` not followed by a
//! placeholder name and `}` is text, so JSON templates need no quoting.

use std::fmt;

/// How a placeholder's value is written into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As it is.
    Raw,
    /// Escaped for the inside of a JSON string (`"` → `\"`, `\` → `\\`, controls as `\uXXXX`).
    Json,
    /// Percent-encoded: everything but letters, digits and `-._~`.
    Url,
}

/// What a placeholder stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    User,
    Password,
    /// A numbered capture group of `--login-after` (`{1}`; `{0}` is the whole match).
    Group(usize),
    /// A named capture group of `--login-after` (`{nonce}`).
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var, Escape),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A placeholder that cannot be filled; the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// Values for the greeting's capture groups, by number and by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    pub numbered: Vec<Option<String>>,
    pub named: Vec<(String, String)>,
}

impl Groups {
    /// The groups of `re`'s first match in `text`, if it matches.
    pub fn capture(re: &regex::Regex, text: &str) -> Option<Groups> {
        let caps = re.captures(text)?;
        let numbered = caps
            .iter()
            .map(|m| m.map(|m| m.as_str().to_string()))
            .collect();
        let named = re
            .capture_names()
            .flatten()
            .filter_map(|n| {
                caps.name(n)
                    .map(|m| (n.to_string(), m.as_str().to_string()))
            })
            .collect();
        Some(Groups { numbered, named })
    }

    fn get(&self, v: &Var) -> Option<&str> {
        match v {
            Var::Group(i) => self.numbered.get(*i).and_then(|g| g.as_deref()),
            Var::Named(n) => self
                .named
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parse `text`. `groups` are the names `--login-after` captures (its regex's named
    /// groups), so `{nonce}` is a placeholder only when there is such a group; other
    /// `{word}`s are text.
    pub fn parse(text: &str, groups: &[&str]) -> Result<Template, TemplateError> {
        let json = matches!(text.trim_start().chars().next(), Some('{' | '['));
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            lit.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let placeholder = after.find('}').and_then(|close| {
                let inner = &after[..close];
                let (name, esc) = match inner.split_once(':') {
                    Some((n, e)) => (n, Some(e)),
                    None => (inner, None),
                };
                is_name(name).then_some((name, esc, close))
            });
            let Some((name, esc, close)) = placeholder else {
                lit.push('{');
                rest = after;
                continue;
            };
            let var = match name {
                "user" => Some(Var::User),
                "password" => Some(Var::Password),
                n if n.chars().all(|c| c.is_ascii_digit()) => n.parse().ok().map(Var::Group),
                n if groups.contains(&n) => Some(Var::Named(n.to_string())),
                _ => None,
            };
            let Some(var) = var else {
                // Not ours (`{word}` in the text): keep it as written.
                lit.push('{');
                rest = after;
                continue;
            };
            let escape = match esc {
                None if json => Escape::Json,
                None => Escape::Raw,
                Some("raw") => Escape::Raw,
                Some("json") => Escape::Json,
                Some("url") => Escape::Url,
                Some(other) => {
                    return Err(TemplateError(format!(
                        "{{{name}:{other}}}: unknown escaping {other:?} — use json, url or raw"
                    )));
                }
            };
            if !lit.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut lit)));
            }
            parts.push(Part::Var(var, escape));
            rest = &after[close + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    fn uses(&self, f: impl Fn(&Var) -> bool) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(v, _) if f(v)))
    }

    /// The template has `{user}`: a user name is needed.
    pub fn uses_user(&self) -> bool {
        self.uses(|v| *v == Var::User)
    }

    /// The template has `{password}`.
    pub fn uses_password(&self) -> bool {
        self.uses(|v| *v == Var::Password)
    }

    /// The template uses a greeting's capture group.
    pub fn uses_groups(&self) -> bool {
        self.uses(|v| matches!(v, Var::Group(_) | Var::Named(_)))
    }

    /// The text with the values filled in (a missing group is an error naming it).
    pub fn render(
        &self,
        user: &str,
        password: &str,
        groups: &Groups,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v, esc) => {
                    let value = match v {
                        Var::User => user,
                        Var::Password => password,
                        other => groups.get(other).ok_or_else(|| {
                            let name = match other {
                                Var::Group(i) => i.to_string(),
                                Var::Named(n) => n.clone(),
                                _ => String::new(),
                            };
                            TemplateError(format!(
                                "the login template's {{{name}}} is not a group that --login-after captured"
                            ))
                        })?,
                    };
                    escape_into(&mut out, value, *esc);
                }
            }
        }
        Ok(out)
    }
}

fn escape_into(out: &mut String, value: &str, esc: Escape) {
    match esc {
        Escape::Raw => out.push_str(value),
        Escape::Json => {
            let quoted = serde_json::Value::String(value.to_string()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Escape::Url => {
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, user: &str, pw: &str) -> String {
        Template::parse(t, &[])
            .unwrap()
            .render(user, pw, &Groups::default())
            .unwrap()
    }

    #[test]
    fn the_seed_template_is_filled_as_is() {
        assert_eq!(
            render("{user}:{password}", "admin", "123456"),
            "admin:123456"
        );
        assert!(
            Template::parse("{user}:{password}", &[])
                .unwrap()
                .uses_user()
        );
    }

    #[test]
    fn json_templates_escape_values_and_keep_their_braces() {
        let t = r#"{"type":"auth","access_token":"{password}"}"#;
        let out = render(t, "", r#"to"k\en"#);
        assert_eq!(out, r#"{"type":"auth","access_token":"to\"k\\en"}"#);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["access_token"], r#"to"k\en"#);
        assert!(!Template::parse(t, &[]).unwrap().uses_user());
        // Told otherwise, a value goes in raw.
        assert_eq!(render(r#"{"n":{password:raw}}"#, "", "42"), r#"{"n":42}"#);
    }

    #[test]
    fn url_and_unknown_escapes() {
        assert_eq!(
            render("u={user:url}", "a b&c/é", ""),
            "u=a%20b%26c%2F%C3%A9"
        );
        let e = Template::parse("{user:base32}", &[]).unwrap_err();
        assert!(e.0.contains("use json, url or raw"), "{e}");
    }

    #[test]
    fn greeting_groups_by_number_and_name() {
        let re = regex::Regex::new(r"nonce=(?P<nonce>\w+) realm=(\w+)").unwrap();
        let g = Groups::capture(&re, "hello nonce=ab12 realm=lab").unwrap();
        let t = Template::parse("{user}:{password}:{nonce}:{2}", &["nonce"]).unwrap();
        assert!(t.uses_groups());
        assert_eq!(t.render("u", "p", &g).unwrap(), "u:p:ab12:lab");
        // Without that group, `{nonce}` is text; a number that matched nothing is an error.
        assert_eq!(render("{nonce}", "", ""), "{nonce}");
        let e = Template::parse("{7}", &[])
            .unwrap()
            .render("", "", &g)
            .unwrap_err();
        assert!(e.0.contains("{7}"), "{e}");
    }
}
