//! The seed's first-message login, checked in constant time.
//!
//! The seed splits the text on `:` and accepts it when there are at least two parts, part 0
//! is the user and part 1 the password (so `admin:123456:extra` is accepted too, and a password
//! containing `:` can never match). Both parts are always compared, with a comparison whose
//! running time depends only on the length of the client's input, so neither the response
//! time nor the reply tells whether the user name or the password was wrong.
//!
//! With a users file ([`UserDb`], `--users-file`), each user has an argon2 password hash (a PHC
//! string, as printed by `wsdeck hash-password`). A login naming a user that is not in the file
//! is verified against a dummy hash made with the same parameters, so it costs the same time
//! and gets the same reply as a wrong password.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use anyhow::{Context, bail};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{CustomizedPasswordHasher, PasswordHasher, PasswordVerifier};

use crate::model::Secret;

/// Does `text` (a whole text frame) log in as `user` with `password`?
pub(crate) fn check_login(text: &str, user: &str, password: &Secret) -> bool {
    let Some((given_user, given_password)) = split_login(text) else {
        return false;
    };
    // `&`, not `&&`: both comparisons always run.
    let user_ok = ct_eq(given_user.as_bytes(), user.as_bytes());
    let password_ok = ct_eq(given_password.as_bytes(), password.expose().as_bytes());
    user_ok & password_ok
}

/// The seed's split of a login text into (user, password): parts 0 and 1 of `text.split(':')`.
fn split_login(text: &str) -> Option<(&str, &str)> {
    let mut parts = text.split(':');
    let user = parts.next().unwrap_or("");
    let password = parts.next()?;
    Some((user, password))
}

/// Users and their argon2 password hashes, from a users file.
///
/// The file has one `NAME:HASH` per line, `HASH` being an argon2 PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); blank lines and lines starting with `#` are
/// ignored.
#[derive(Clone)]
pub struct UserDb {
    users: HashMap<String, PasswordHash>,
    /// Verified for names that are not in `users`, with the parameters of the first entry.
    dummy: PasswordHash,
}

impl std::fmt::Debug for UserDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDb")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl UserDb {
    /// Read a users file. Errors name the file and the line.
    pub fn load(path: &Path) -> anyhow::Result<UserDb> {
        let text = crate::files::read_text(path, crate::files::MAX_SMALL_FILE)
            .with_context(|| format!("cannot read users file {}", path.display()))?;
        UserDb::parse(&text).with_context(|| format!("users file {}", path.display()))
    }

    /// Parse the text of a users file (see the type's docs).
    pub fn parse(text: &str) -> anyhow::Result<UserDb> {
        let mut users = HashMap::new();
        let mut first: Option<PasswordHash> = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, hash)) = line.split_once(':') else {
                bail!("line {n}: expected NAME:HASH (a hash from `wsdeck hash-password`)");
            };
            let (name, hash) = (name.trim(), hash.trim());
            if name.is_empty() {
                bail!("line {n}: the user name is empty");
            }
            if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
                bail!("line {n}: the user name has spaces or control characters");
            }
            let parsed = PasswordHash::new(hash)
                .map_err(|e| anyhow::anyhow!("line {n}: not a PHC password hash ({e})"))?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                bail!(
                    "line {n}: the hash is {}, not argon2 (make one with `wsdeck hash-password`)",
                    parsed.algorithm
                );
            }
            if parsed.salt.is_none() || parsed.hash.is_none() {
                bail!("line {n}: the hash has no salt or no output");
            }
            argon2::Params::try_from(&parsed)
                .map_err(|e| anyhow::anyhow!("line {n}: bad argon2 parameters ({e})"))?;
            if first.is_none() {
                first = Some(parsed.clone());
            }
            if users.insert(name.to_string(), parsed).is_some() {
                bail!("line {n}: user {name:?} is listed twice");
            }
        }
        let Some(first) = first else {
            bail!("no users (expected NAME:HASH lines)");
        };
        let dummy = dummy_like(&first)?;
        Ok(UserDb { users, dummy })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Check a login text (`user:password`, split like the seed). Returns the user name when
    /// accepted. Always runs one argon2 verification when a user name and password are
    /// given, whether or not the user exists. CPU-heavy: call it off the async threads.
    pub fn check_login(&self, text: &str) -> Option<String> {
        self.check_login_with(text, &mut |hash, password| {
            Argon2::default().verify_password(password, hash).is_ok()
        })
    }

    /// [`UserDb::check_login`] with the argon2 verification supplied: `verify(hash,
    /// password)` (the server's verifiers bring their own working memory).
    pub(crate) fn check_login_with(
        &self,
        text: &str,
        verify: &mut dyn FnMut(&PasswordHash, &[u8]) -> bool,
    ) -> Option<String> {
        let (user, password) = split_login(text)?;
        let (hash, known) = match self.users.get(user) {
            Some(h) => (h, true),
            None => (&self.dummy, false),
        };
        let ok = verify(hash, password.as_bytes());
        (ok & known).then(|| user.to_string())
    }

    /// The hash a login naming `user` is verified against (test hook).
    #[cfg(test)]
    fn hash_for(&self, user: &str) -> &PasswordHash {
        self.users.get(user).unwrap_or(&self.dummy)
    }
}

/// A hash of a random password with the algorithm, version, parameters and salt length of
/// `like`, so verifying against it costs the same.
fn dummy_like(like: &PasswordHash) -> anyhow::Result<PasswordHash> {
    let params = argon2::Params::try_from(like).map_err(|e| anyhow::anyhow!("{e}"))?;
    let random = || {
        argon2::password_hash::try_generate_salt()
            .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))
    };
    let (salt, password) = (random()?, random()?);
    // Salt length only changes the cost of one small blake2 input hash.
    let salt_len = like.salt.as_ref().map_or(salt.len(), |s| s.len());
    Argon2::default()
        .hash_password_customized(
            &password,
            &salt[..salt_len.clamp(8, salt.len())],
            Some(like.algorithm.as_str()),
            like.version,
            params,
        )
        .map_err(|e| anyhow::anyhow!("cannot make the dummy hash: {e}"))
}

/// Hash `password` for a users file: argon2id with the crate's default (OWASP) parameters and
/// a random salt, as a PHC string.
pub fn hash_password(password: &Secret) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

/// Compare the client's `input` with a `secret` in time that depends only on `input.len()`.
fn ct_eq(input: &[u8], secret: &[u8]) -> bool {
    if secret.is_empty() {
        // Only reveals that the configured value is empty, which the config decides.
        return input.is_empty();
    }
    let mut acc: u8 = 0;
    for (i, &b) in input.iter().enumerate() {
        acc |= b ^ secret[i % secret.len()];
    }
    let same_len = input.len() == secret.len();
    (black_box(acc) == 0) & same_len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw() -> Secret {
        Secret::new("123456")
    }

    #[test]
    fn accepts_the_seed_credentials() {
        assert!(check_login("admin:123456", "admin", &pw()));
    }

    #[test]
    fn accepts_extra_parts_like_the_seed() {
        assert!(check_login("admin:123456:whatever", "admin", &pw()));
    }

    #[test]
    fn rejects_wrong_user_password_or_shape() {
        for bad in [
            "admin:12345",
            "admin:1234567",
            "admin:123457",
            "Admin:123456",
            "adm:123456",
            "admin",
            "admin123456",
            "",
            ":",
            "admin:",
            ":123456",
        ] {
            assert!(!check_login(bad, "admin", &pw()), "{bad:?} was accepted");
        }
    }

    #[test]
    fn password_with_colon_never_matches_like_the_seed() {
        let p = Secret::new("a:b");
        assert!(!check_login("u:a:b", "u", &p));
    }

    #[test]
    fn empty_password_needs_empty_part() {
        let p = Secret::new("");
        assert!(check_login("u:", "u", &p));
        assert!(!check_login("u:x", "u", &p));
        assert!(!check_login("u", "u", &p));
    }

    /// A cheap argon2id hash (tests only; real ones use the default parameters).
    fn cheap_hash(password: &str) -> String {
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        let a = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        a.hash_password(password.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn users_file_logins() {
        let text = format!(
            "# users\n\nalice:{}\n  bob : {}  \n",
            cheap_hash("wonderland"),
            cheap_hash("builder")
        );
        let db = UserDb::parse(&text).unwrap();
        assert_eq!(db.len(), 2);
        assert_eq!(db.check_login("alice:wonderland").as_deref(), Some("alice"));
        assert_eq!(db.check_login("bob:builder:x").as_deref(), Some("bob"));
        for bad in [
            "alice:builder",
            "bob:wonderland",
            "mallory:wonderland",
            "alice",
            "",
            ":wonderland",
        ] {
            assert_eq!(db.check_login(bad), None, "{bad:?} was accepted");
        }
        assert!(!format!("{db:?}").contains("argon2"));
    }

    #[test]
    fn unknown_users_are_verified_against_a_hash_with_the_same_cost() {
        let db = UserDb::parse(&format!("alice:{}\n", cheap_hash("pw"))).unwrap();
        let real = db.hash_for("alice");
        let dummy = db.hash_for("nobody");
        assert_ne!(real, dummy);
        assert_eq!(real.algorithm, dummy.algorithm);
        assert_eq!(real.version, dummy.version);
        assert_eq!(
            argon2::Params::try_from(real).unwrap(),
            argon2::Params::try_from(dummy).unwrap()
        );
        assert_eq!(real.salt.unwrap().len(), dummy.salt.unwrap().len());
        assert_eq!(real.hash.unwrap().len(), dummy.hash.unwrap().len());
    }

    #[test]
    fn users_file_errors_name_the_line() {
        let h = cheap_hash("pw");
        let cases = [
            (String::new(), "no users"),
            ("alice\n".to_string(), "line 1: expected NAME:HASH"),
            (format!("a:{h}\n:{h}\n"), "line 2: the user name is empty"),
            ("a:plaintext\n".to_string(), "line 1: not a PHC"),
            (
                format!("a:{h}\na:{h}\n"),
                "line 2: user \"a\" is listed twice",
            ),
            (format!("a b:{h}\n"), "spaces or control"),
            (
                "a:$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n".to_string(),
                "not argon2",
            ),
        ];
        for (text, want) in cases {
            let e = UserDb::parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn hash_password_makes_a_default_argon2id_phc_string() {
        let h = hash_password(&Secret::new("s3cret")).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let db = UserDb::parse(&format!("u:{h}")).unwrap();
        assert_eq!(db.check_login("u:s3cret").as_deref(), Some("u"));
        assert_eq!(db.check_login("u:s3cret!"), None);
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash_password(&Secret::new("s3cret")).unwrap());
    }

    #[test]
    fn ct_eq_matches_plain_equality() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"abc", b"abc"),
            (b"abc", b"abd"),
            (b"abcabc", b"abc"),
            (b"ab", b"abc"),
            (b"", b"abc"),
            (b"\xff", b"\xff"),
        ];
        for (a, b) in cases {
            assert_eq!(ct_eq(a, b), a == b, "{a:?} vs {b:?}");
        }
    }
}
