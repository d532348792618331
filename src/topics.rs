//! Topics (rooms): which clients of one loop subscribe to which names.
//!
//! Pure bookkeeping, no I/O: the loop asks it for a topic's subscribers when a message is
//! published and tells it when a client leaves. Every operation costs O(1) (hash lookups and
//! swap-removes) plus, for a publish, O(subscribers); nothing ever scans every client or every
//! topic. A topic with no subscriber left is forgotten, so joining and leaving forever leaves the
//! table empty.

use std::collections::HashMap;
use std::sync::Arc;

use slab::Slab;

use crate::client::ClientId;

/// A topic's interned name; cheap to clone into a relay or broker message.
pub(crate) type TopicName = Arc<str>;

/// One topic: its name and its members, in no particular order.
struct Topic {
    name: TopicName,
    members: Vec<ClientId>,
    /// Where each member's slot sits in `members`, for O(1) removal.
    position: HashMap<u32, usize>,
}

/// What a subscribe or unsubscribe changed, so that a broker can follow the topics this loop
/// hosts (subscribe upstream on the first member, unsubscribe after the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing changed (already subscribed, or not subscribed).
    None,
    /// The client joined or left; the topic had and keeps other members.
    Member,
    /// The topic got its first member on this loop.
    FirstMember,
    /// The topic lost its last member on this loop and is forgotten.
    LastMember,
}

/// Every topic of one loop and every client's subscriptions.
#[derive(Default)]
pub(crate) struct Topics {
    by_name: HashMap<TopicName, usize>,
    topics: Slab<Topic>,
    /// Per client slot: the topics it is subscribed to (a client has few, so a short list).
    subscriptions: HashMap<u32, Vec<usize>>,
}

impl Topics {
    /// Subscribes `client` to `name`.
    pub(crate) fn subscribe(&mut self, client: ClientId, name: &str) -> Change {
        let (key, first) = match self.by_name.get(name) {
            Some(&key) => (key, false),
            None => {
                let name: TopicName = Arc::from(name);
                let key = self.topics.insert(Topic {
                    name: name.clone(),
                    members: Vec::new(),
                    position: HashMap::new(),
                });
                self.by_name.insert(name, key);
                (key, true)
            }
        };
        let topic = &mut self.topics[key];
        if let Some(&at) = topic.position.get(&client.slot) {
            if topic.members[at] == client {
                return Change::None;
            }
            // A stale member from a client that left without being removed: replace it.
            topic.members[at] = client;
            return Change::Member;
        }
        topic.position.insert(client.slot, topic.members.len());
        topic.members.push(client);
        self.subscriptions.entry(client.slot).or_default().push(key);
        if first {
            Change::FirstMember
        } else {
            Change::Member
        }
    }

    /// Unsubscribes `client` from `name`.
    pub(crate) fn unsubscribe(&mut self, client: ClientId, name: &str) -> Change {
        let Some(&key) = self.by_name.get(name) else {
            return Change::None;
        };
        let Some(&at) = self.topics[key].position.get(&client.slot) else {
            return Change::None;
        };
        if self.topics[key].members[at] != client {
            return Change::None;
        }
        if let Some(list) = self.subscriptions.get_mut(&client.slot) {
            if let Some(i) = list.iter().position(|&k| k == key) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                self.subscriptions.remove(&client.slot);
            }
        }
        self.remove_member(key, client.slot)
    }

    /// Forgets every subscription of a client that has left; returns the topics this loop no
    /// longer hosts.
    pub(crate) fn remove_client(&mut self, client: ClientId) -> Vec<TopicName> {
        let mut emptied = Vec::new();
        let Some(keys) = self.subscriptions.remove(&client.slot) else {
            return emptied;
        };
        for key in keys {
            let name = self.topics[key].name.clone();
            if self.remove_member(key, client.slot) == Change::LastMember {
                emptied.push(name);
            }
        }
        emptied
    }

    fn remove_member(&mut self, key: usize, slot: u32) -> Change {
        let topic = &mut self.topics[key];
        let Some(at) = topic.position.remove(&slot) else {
            return Change::None;
        };
        topic.members.swap_remove(at);
        if let Some(moved) = topic.members.get(at) {
            topic.position.insert(moved.slot, at);
        }
        if !topic.members.is_empty() {
            return Change::Member;
        }
        let topic = self.topics.remove(key);
        self.by_name.remove(&topic.name);
        Change::LastMember
    }

    /// The members of a topic (empty when nobody on this loop subscribes to it).
    pub(crate) fn members(&self, name: &str) -> &[ClientId] {
        match self.by_name.get(name) {
            Some(&key) => &self.topics[key].members,
            None => &[],
        }
    }

    /// Whether `client` subscribes to `name`.
    pub(crate) fn is_subscribed(&self, client: ClientId, name: &str) -> bool {
        let Some(&key) = self.by_name.get(name) else {
            return false;
        };
        let topic = &self.topics[key];
        topic
            .position
            .get(&client.slot)
            .is_some_and(|&at| topic.members[at] == client)
    }

    /// How many topics have at least one member.
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }

    /// The topics a client subscribes to.
    pub(crate) fn topics_of(&self, client: ClientId) -> impl Iterator<Item = &str> + '_ {
        self.subscriptions
            .get(&client.slot)
            .into_iter()
            .flatten()
            .filter(move |&&key| self.is_member(key, client))
            .map(|&key| &*self.topics[key].name)
    }

    fn is_member(&self, key: usize, client: ClientId) -> bool {
        let topic = &self.topics[key];
        topic
            .position
            .get(&client.slot)
            .is_some_and(|&at| topic.members[at] == client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(slot: usize, generation: u32) -> ClientId {
        ClientId::new(slot, generation)
    }

    #[test]
    fn members_join_and_leave_with_first_and_last_reported() {
        let mut t = Topics::default();
        assert_eq!(t.subscribe(id(1, 1), "a"), Change::FirstMember);
        assert_eq!(t.subscribe(id(1, 1), "a"), Change::None);
        assert_eq!(t.subscribe(id(2, 1), "a"), Change::Member);
        assert_eq!(t.subscribe(id(2, 1), "b"), Change::FirstMember);
        let mut a = t.members("a").to_vec();
        a.sort();
        assert_eq!(a, vec![id(1, 1), id(2, 1)]);
        assert!(t.members("c").is_empty());
        assert_eq!(t.unsubscribe(id(1, 1), "a"), Change::Member);
        assert_eq!(t.unsubscribe(id(1, 1), "a"), Change::None);
        assert_eq!(t.unsubscribe(id(2, 1), "a"), Change::LastMember);
        assert_eq!(t.len(), 1);
        assert_eq!(t.topics_of(id(2, 1)).collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn a_client_leaving_leaves_every_topic_and_reports_the_emptied_ones() {
        let mut t = Topics::default();
        t.subscribe(id(1, 1), "a");
        t.subscribe(id(1, 1), "b");
        t.subscribe(id(2, 1), "b");
        let mut emptied = t.remove_client(id(1, 1));
        emptied.sort();
        assert_eq!(emptied, vec![TopicName::from("a")]);
        assert_eq!(t.members("b"), &[id(2, 1)]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn an_old_id_in_a_reused_slot_cannot_unsubscribe_the_new_client() {
        let mut t = Topics::default();
        t.subscribe(id(1, 2), "a");
        assert_eq!(t.unsubscribe(id(1, 1), "a"), Change::None);
        assert_eq!(t.members("a"), &[id(1, 2)]);
    }

    #[test]
    fn swap_removal_keeps_every_position_right() {
        let mut t = Topics::default();
        for slot in 0..100 {
            t.subscribe(id(slot, 1), "room");
        }
        for slot in (0..100).step_by(3) {
            assert_ne!(t.unsubscribe(id(slot, 1), "room"), Change::None);
        }
        let mut left: Vec<usize> = t.members("room").iter().map(|c| c.slot()).collect();
        left.sort();
        let expected: Vec<usize> = (0..100).filter(|s| s % 3 != 0).collect();
        assert_eq!(left, expected);
        for slot in expected {
            assert!(t.is_subscribed(id(slot, 1), "room"));
            t.remove_client(id(slot, 1));
        }
        assert_eq!(t.len(), 0);
    }

    /// Issue 14: a client's subscriptions end with it; 100,000 joins and leaves leave nothing.
    #[test]
    fn joining_and_leaving_100000_times_leaves_the_table_empty() {
        let mut t = Topics::default();
        for i in 0..100_000u32 {
            let client = id((i % 64) as usize, i);
            t.subscribe(client, &format!("room-{}", i % 7));
            t.subscribe(client, "lobby");
            if i % 2 == 0 {
                t.unsubscribe(client, "lobby");
            }
            t.remove_client(client);
        }
        assert_eq!(t.len(), 0);
        assert!(t.by_name.is_empty() && t.topics.is_empty() && t.subscriptions.is_empty());
    }
}
