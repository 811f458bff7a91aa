//! The seed's first-message login, checked in constant time.
//!
//! The seed splits the text on `:` and accepts it when there are at least two parts, part 0
//! is the user and part 1 the password (so `admin:123456:extra` is accepted too, and a password
//! containing `:` can never match). Both parts are always compared, with a comparison whose
//! running time depends only on the length of the client's input, so neither the response
//! time nor the reply tells whether the user name or the password was wrong.

use std::hint::black_box;

use crate::model::Secret;

/// Does `text` (a whole text frame) log in as `user` with `password`?
pub(crate) fn check_login(text: &str, user: &str, password: &Secret) -> bool {
    let mut parts = text.split(':');
    let given_user = parts.next().unwrap_or("");
    let Some(given_password) = parts.next() else {
        return false;
    };
    // `&`, not `&&`: both comparisons always run.
    let user_ok = ct_eq(given_user.as_bytes(), user.as_bytes());
    let password_ok = ct_eq(given_password.as_bytes(), password.expose().as_bytes());
    user_ok & password_ok
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
