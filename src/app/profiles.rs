//! Saved profiles (from the config file) and the snippets in use: the picked profile's own
//! first, then the global ones.

use std::path::PathBuf;

use crate::config::{Profile, Snippet};
use crate::spec::ConnectSpec;

/// A saved profile as the app uses it: its session spec (password read from its
/// `password_env` when the app started), or why it cannot be used.
#[derive(Debug, Clone)]
pub struct SavedProfile {
    pub name: String,
    pub url: String,
    pub spec: Result<ConnectSpec, String>,
    /// Its `record` file: recording starts there when the user picks this profile and
    /// connects, unless something is being recorded already.
    pub record: Option<PathBuf>,
    /// Its own snippets, offered in front of the global ones while it is the profile in use.
    pub snippets: Vec<Snippet>,
}

#[derive(Debug, Default)]
pub struct Profiles {
    pub(super) saved: Vec<SavedProfile>,
    /// The global snippets (from the config file).
    pub(super) global: Vec<Snippet>,
    /// The snippets in use: the picked profile's, then the global ones.
    pub(super) snippets: Vec<Snippet>,
    /// A profile's `record` file, picked in the login pane or the palette: recording starts
    /// there with the next connect (once per pick).
    pub(super) record: Option<PathBuf>,
}

impl Profiles {
    pub fn new(profiles: Vec<(String, Profile)>, global: Vec<Snippet>) -> Profiles {
        let saved = profiles
            .into_iter()
            .map(|(name, p)| SavedProfile {
                spec: p.to_spec().map_err(|e| format!("profile {name}: {e:#}")),
                url: p.url.clone(),
                record: p.record.clone(),
                snippets: p.snippets.clone(),
                name,
            })
            .collect();
        Profiles {
            saved,
            snippets: global.clone(),
            global,
            record: None,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.saved.iter().map(|p| p.name.clone()).collect()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.saved.iter().position(|p| p.name == name)
    }

    /// The profile `spec` was filled from, when one has its URL, user and login method.
    pub fn matching(&self, spec: &ConnectSpec) -> Option<usize> {
        self.saved.iter().position(|p| {
            p.spec
                .as_ref()
                .is_ok_and(|s| s.url == spec.url && s.user == spec.user && s.auth == spec.auth)
        })
    }

    /// Start with profile `picked` in use (its snippets in front).
    pub fn with_picked(mut self, picked: Option<usize>) -> Profiles {
        self.use_snippets_of(picked);
        self
    }

    /// Profile `i` was picked: its snippets in front, its record file for the next connect.
    pub fn picked(&mut self, i: usize) {
        self.record = self.saved.get(i).and_then(|p| p.record.clone());
        self.use_snippets_of(Some(i));
    }

    fn use_snippets_of(&mut self, picked: Option<usize>) {
        let own = picked
            .and_then(|i| self.saved.get(i))
            .map(|p| p.snippets.as_slice())
            .unwrap_or_default();
        self.snippets = own.iter().chain(&self.global).cloned().collect();
    }
}
