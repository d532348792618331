//! The topics this instance hosts, for the subscriber thread: one Redis channel per topic,
//! subscribed while some loop of this instance has a subscriber of it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// The set the loops keep (through the relay) and the subscriber thread follows.
pub(super) struct Hosted {
    /// Channels are `<prefix>:topic:<name>`.
    prefix: String,
    state: Mutex<State>,
    /// Whether `changed` has something: read by the subscriber at every tick without the lock.
    dirty: AtomicBool,
}

#[derive(Default)]
struct State {
    hosted: HashSet<String>,
    /// Topics whose hosting changed since the subscriber last looked (it reads their state in
    /// `hosted`, so a join and a leave between two looks cost nothing at Redis).
    changed: Vec<String>,
}

impl Hosted {
    pub(super) fn new(prefix: &str) -> Hosted {
        Hosted {
            prefix: format!("{prefix}:topic:"),
            state: Mutex::new(State::default()),
            dirty: AtomicBool::new(false),
        }
    }

    /// The Redis channel of a topic.
    pub(super) fn channel(&self, topic: &str) -> String {
        format!("{}{topic}", self.prefix)
    }

    /// The topic a channel carries, if it is a topic channel.
    pub(super) fn topic_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(&self.prefix)
    }

    /// The instance hosts `topic` now (`true`) or no longer does.
    pub(super) fn set(&self, topic: &str, hosted: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = if hosted {
            state.hosted.insert(topic.to_owned())
        } else {
            state.hosted.remove(topic)
        };
        if changed {
            state.changed.push(topic.to_owned());
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Every hosted topic, for a new connection (pending changes are included, so forgotten).
    pub(super) fn all(&self) -> Vec<String> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.changed.clear();
        self.dirty.store(false, Ordering::Release);
        state.hosted.iter().cloned().collect()
    }

    /// The topics whose hosting changed since the last call, each with whether it is hosted now.
    pub(super) fn changes(&self) -> Vec<(String, bool)> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = std::mem::take(&mut state.changed);
        changed
            .into_iter()
            .map(|topic| {
                let hosted = state.hosted.contains(&topic);
                (topic, hosted)
            })
            .collect()
    }

    /// How many topics are hosted now.
    pub(super) fn len(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.hosted.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_report_the_latest_state_and_a_reconnect_takes_everything() {
        let hosted = Hosted::new("app");
        assert_eq!(hosted.channel("lobby"), "app:topic:lobby");
        assert_eq!(hosted.topic_of("app:topic:lobby"), Some("lobby"));
        assert_eq!(hosted.topic_of("app:chat"), None);
        hosted.set("a", true);
        hosted.set("b", true);
        hosted.set("b", false);
        let mut changes = hosted.changes();
        changes.sort();
        assert_eq!(
            changes,
            vec![("a".into(), true), ("b".into(), false), ("b".into(), false)]
        );
        assert!(hosted.changes().is_empty());
        hosted.set("c", true);
        let mut all = hosted.all();
        all.sort();
        assert_eq!(all, vec!["a", "c"]);
        assert!(hosted.changes().is_empty());
        assert_eq!(hosted.len(), 2);
    }
}
