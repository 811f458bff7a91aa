//! The login form: URL, user, password (masked), auth method.

use tui_input::Input;

use crate::model::Secret;
use crate::spec::{AuthMethod, ConnectSpec};

/// Where keyboard input goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The saved profiles (only when the config file has some).
    Profile,
    Url,
    User,
    Password,
    Auth,
    /// The chat input box.
    Input,
}

impl Focus {
    /// Tab order.
    pub const ORDER: [Focus; 6] = [
        Focus::Profile,
        Focus::Url,
        Focus::User,
        Focus::Password,
        Focus::Auth,
        Focus::Input,
    ];

    pub fn is_login(self) -> bool {
        self != Focus::Input
    }
}

/// Why the login pane cannot be submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// This field must be filled first (what to say about it).
    Missing(Focus, &'static str),
    /// This field is wrong; the pane shows why.
    Bad(Focus),
}

/// The login pane's contents. Deliberately not `Debug`: it holds the password.
pub struct LoginForm {
    url: Input,
    user: Input,
    password: Input,
    auth: AuthMethod,
    /// Show the password in clear.
    reveal: bool,
    /// The last failure (connection error or login rejection), shown in red.
    error: Option<String>,
    /// Names of the saved profiles offered at the top of the pane.
    profiles: Vec<String>,
    /// The profile last picked (index into `profiles`).
    profile: Option<usize>,
    /// The login template has `{user}` (a token template needs no user name).
    template_user: bool,
}

impl LoginForm {
    pub fn from_spec(spec: &ConnectSpec) -> Self {
        LoginForm {
            url: Input::new(spec.url.clone()),
            user: Input::new(spec.user.clone()),
            password: Input::new(spec.password.expose().to_string()),
            auth: spec.auth,
            reveal: false,
            error: None,
            profiles: Vec::new(),
            profile: None,
            template_user: spec.login.uses_user(),
        }
    }

    /// Fill the fields from a profile's spec (the password too: from its `password_env`,
    /// else empty).
    pub(crate) fn offer_profiles(&mut self, names: Vec<String>, picked: Option<usize>) {
        self.profiles = names;
        self.profile = picked;
    }

    /// The name of the profile last picked.
    pub fn profile_name(&self) -> Option<&str> {
        self.profile
            .and_then(|i| self.profiles.get(i))
            .map(String::as_str)
    }

    /// The index of the profile last picked.
    pub(crate) fn picked_profile(&self) -> Option<usize> {
        self.profile
    }

    /// Profile `i` was picked but cannot be used: `why` is shown.
    pub(crate) fn profile_failed(&mut self, i: usize, why: String) {
        self.profile = Some(i);
        self.error = Some(why);
    }

    pub(crate) fn set_error(&mut self, error: Option<String>) {
        self.error = error;
    }

    pub(crate) fn toggle_reveal(&mut self) {
        self.reveal = !self.reveal;
    }

    /// ←/→ on the Auth field.
    pub(crate) fn cycle_auth(&mut self, forward: bool) {
        self.auth = if forward {
            self.auth.next()
        } else {
            self.auth.prev()
        };
    }

    /// Enter: the session the pane describes, over `template` (login rules, headers…), or
    /// the field to fill or fix. Once sent, the password is not shown again.
    pub(crate) fn submit(&mut self, template: &ConnectSpec) -> Result<ConnectSpec, Invalid> {
        if let Some((field, what)) = self.missing() {
            self.error = None;
            return Err(Invalid::Missing(field, what));
        }
        let url = match crate::spec::validate_url(self.url.value()) {
            Ok(u) => u,
            Err(e) => {
                self.error = Some(e.to_string());
                return Err(Invalid::Bad(Focus::Url));
            }
        };
        let mut spec = template.clone();
        spec.url = url;
        spec.user = if self.relevant(Focus::User) {
            self.user().to_string()
        } else {
            String::new()
        };
        spec.password = if self.relevant(Focus::Password) {
            self.password()
        } else {
            Default::default()
        };
        spec.auth = self.auth;
        self.reveal = false;
        self.error = None;
        Ok(spec)
    }

    pub(crate) fn fill(&mut self, index: usize, spec: &ConnectSpec) {
        self.url = Input::new(spec.url.clone());
        self.user = Input::new(spec.user.clone());
        self.password = Input::new(spec.password.expose().to_string());
        self.auth = spec.auth;
        self.reveal = false;
        self.error = None;
        self.profile = Some(index);
    }

    /// The saved profiles' names.
    pub fn profiles(&self) -> &[String] {
        &self.profiles
    }

    /// The profile last picked, if any.
    pub fn profile(&self) -> Option<&str> {
        self.profile
            .and_then(|i| self.profiles.get(i))
            .map(String::as_str)
    }

    /// Whether a field matters for the chosen auth method (irrelevant ones are dimmed and
    /// skipped by Tab).
    pub fn relevant(&self, f: Focus) -> bool {
        match f {
            Focus::Profile => !self.profiles.is_empty(),
            Focus::Url | Focus::Auth | Focus::Input => true,
            Focus::User => match self.auth {
                AuthMethod::Basic => true,
                AuthMethod::FirstMessage => self.template_user,
                _ => false,
            },
            Focus::Password => self.auth != AuthMethod::None,
        }
    }

    pub fn input(&self, f: Focus) -> Option<&Input> {
        match f {
            Focus::Url => Some(&self.url),
            Focus::User => Some(&self.user),
            Focus::Password => Some(&self.password),
            Focus::Profile | Focus::Auth | Focus::Input => None,
        }
    }

    pub fn input_mut(&mut self, f: Focus) -> Option<&mut Input> {
        match f {
            Focus::Url => Some(&mut self.url),
            Focus::User => Some(&mut self.user),
            Focus::Password => Some(&mut self.password),
            Focus::Profile | Focus::Auth | Focus::Input => None,
        }
    }

    /// The first empty field that matters (URL, user, password); when all are filled, the
    /// password field (so Enter logs in), or the URL when there is no password.
    pub fn initial_focus(&self) -> Focus {
        for f in [Focus::Url, Focus::User, Focus::Password] {
            if self.relevant(f) && self.input(f).is_some_and(|i| i.value().is_empty()) {
                return f;
            }
        }
        if self.relevant(Focus::Password) {
            Focus::Password
        } else {
            Focus::Url
        }
    }

    /// The first field that must be filled before connecting, with what to say about it.
    pub fn missing(&self) -> Option<(Focus, &'static str)> {
        if self.url.value().trim().is_empty() {
            return Some((Focus::Url, "enter the server URL (ws://… or wss://…)"));
        }
        if self.relevant(Focus::User) && self.user.value().is_empty() {
            return Some((Focus::User, "enter a user name"));
        }
        if self.relevant(Focus::Password) && self.password.value().is_empty() {
            let what = if self.auth == AuthMethod::Bearer {
                "enter the token"
            } else {
                "enter the password"
            };
            return Some((Focus::Password, what));
        }
        None
    }

    pub fn password(&self) -> Secret {
        Secret::new(self.password.value())
    }

    pub fn password_chars(&self) -> usize {
        self.password.value().chars().count()
    }

    pub fn password_is_empty(&self) -> bool {
        self.password.value().is_empty()
    }

    /// Forget the typed password.
    pub fn clear_password(&mut self) {
        self.password.reset();
        self.reveal = false;
    }

    pub fn url(&self) -> &str {
        self.url.value()
    }

    pub fn user(&self) -> &str {
        self.user.value()
    }

    pub fn auth(&self) -> AuthMethod {
        self.auth
    }

    pub fn revealed(&self) -> bool {
        self.reveal
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Label of the password field for the auth method.
    pub fn password_label(&self) -> &'static str {
        if self.auth == AuthMethod::Bearer {
            "Token"
        } else {
            "Password"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(url: &str, user: &str, pw: &str, auth: AuthMethod) -> LoginForm {
        let mut spec = ConnectSpec::new(url);
        spec.user = user.into();
        spec.password = Secret::new(pw);
        spec.auth = auth;
        LoginForm::from_spec(&spec)
    }

    #[test]
    fn a_token_template_without_user_asks_for_no_user() {
        let mut spec = ConnectSpec::new("ws://h");
        spec.login.template = r#"{"type":"auth","access_token":"{password}"}"#.into();
        spec.password = Secret::new("tok");
        let mut f = LoginForm::from_spec(&spec);
        assert!(!f.relevant(Focus::User));
        assert_eq!(f.initial_focus(), Focus::Password);
        let out = f.submit(&spec).expect("no user needed");
        assert_eq!(out.user, "");
    }

    #[test]
    fn initial_focus_is_first_empty_field() {
        let fm = AuthMethod::FirstMessage;
        assert_eq!(form("", "", "", fm).initial_focus(), Focus::Url);
        assert_eq!(form("ws://h", "", "", fm).initial_focus(), Focus::User);
        assert_eq!(
            form("ws://h", "admin", "", fm).initial_focus(),
            Focus::Password
        );
        assert_eq!(
            form("ws://h", "admin", "123456", fm).initial_focus(),
            Focus::Password
        );
        // Bearer needs no user; none needs nothing.
        assert_eq!(
            form("ws://h", "", "", AuthMethod::Bearer).initial_focus(),
            Focus::Password
        );
        assert_eq!(
            form("ws://h", "", "", AuthMethod::None).initial_focus(),
            Focus::Url
        );
    }

    #[test]
    fn missing_names_the_field_to_fill() {
        let f = form("ws://h", "admin", "", AuthMethod::FirstMessage);
        assert_eq!(f.missing().map(|m| m.0), Some(Focus::Password));
        let f = form("ws://h", "", "", AuthMethod::None);
        assert_eq!(f.missing(), None);
        let f = form(" ", "a", "b", AuthMethod::Basic);
        assert_eq!(f.missing().map(|m| m.0), Some(Focus::Url));
    }

    #[test]
    fn clear_password_forgets_it_and_hides() {
        let mut f = form("ws://h", "admin", "123456", AuthMethod::FirstMessage);
        f.reveal = true;
        f.clear_password();
        assert!(f.password_is_empty());
        assert!(!f.revealed());
        assert_eq!(f.password().expose(), "");
    }
}
