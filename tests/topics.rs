//! Topics on one loop over real sockets: subscribe, unsubscribe, publish, publish_except, from a
//! handler, a timer and a `Handle`; a client's subscriptions end with it.

mod common;

use std::time::Duration;

use common::*;
use simple_ws_server::{ClientContext, Config, Context, Handler, Message, TimerId};

/// Obeys text commands: `join T`, `leave T`, `pub T text`, `others T text`, `later T text`
/// (publish from a timer), `topics` (this client's topics), `count` (the loop's topic gauge),
/// `churn N` (join and leave N times).
#[derive(Default)]
struct Commands {
    later: Vec<(TimerId, String, String)>,
}

impl Handler for Commands {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let text = String::from_utf8_lossy(message.as_bytes()).into_owned();
        let mut words = text.splitn(3, ' ');
        let (verb, topic, rest) = (
            words.next().unwrap_or(""),
            words.next().unwrap_or("").to_owned(),
            words.next().unwrap_or("").to_owned(),
        );
        match verb {
            "join" => {
                let newly = ctx.subscribe(&topic);
                ctx.send(format!(
                    "joined {topic} {newly} {}",
                    ctx.is_subscribed(&topic)
                ));
            }
            "leave" => {
                let was = ctx.unsubscribe(&topic);
                ctx.send(format!("left {topic} {was} {}", ctx.is_subscribed(&topic)));
            }
            "pub" => ctx.publish(&topic, rest),
            "others" => ctx.publish_except(&topic, rest),
            "later" => {
                let timer = ctx.set_timer(Duration::from_millis(10));
                self.later.push((timer, topic, rest));
            }
            "topics" => {
                let mut topics: Vec<&str> = ctx.topics().collect();
                topics.sort_unstable();
                let line = topics.join(",");
                ctx.send(line);
            }
            "count" => {
                let topics = ctx.stats().topics;
                ctx.send(format!("topics {topics}"));
            }
            "churn" => {
                let n: u32 = topic.parse().unwrap_or(0);
                for i in 0..n {
                    let name = format!("room-{}", i % 7);
                    ctx.subscribe(&name);
                    ctx.subscribe("lobby");
                    ctx.unsubscribe(&name);
                    ctx.unsubscribe("lobby");
                }
                ctx.send("churned");
            }
            _ => ctx.send("?"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        if let Some(i) = self.later.iter().position(|(t, _, _)| *t == timer) {
            let (_, topic, text) = self.later.swap_remove(i);
            ctx.publish(&topic, text);
        }
    }
}

fn say(client: &mut Client, text: &str) {
    client.send(text.into()).expect("send");
}

fn joined(client: &mut Client, topic: &str) {
    say(client, &format!("join {topic}"));
    assert_eq!(recv_text(client), format!("joined {topic} true true"));
}

const QUIET: Duration = Duration::from_millis(150);

#[test]
fn publish_reaches_the_subscribers_of_the_topic_only() {
    let server = TestServer::start(Commands::default(), Config::default());
    let (mut a1, mut a2, mut b) = (
        connect(server.addr),
        connect(server.addr),
        connect(server.addr),
    );
    joined(&mut a1, "a");
    joined(&mut a2, "a");
    joined(&mut b, "b");
    say(&mut a1, "pub a hello a");
    assert_eq!(recv_text(&mut a1), "hello a");
    assert_eq!(recv_text(&mut a2), "hello a");
    assert_silent(&mut b, QUIET);
    say(&mut a1, "pub nobody lost");
    assert_silent(&mut a1, QUIET);
}

#[test]
fn publish_except_skips_the_sender() {
    let server = TestServer::start(Commands::default(), Config::default());
    let (mut a1, mut a2) = (connect(server.addr), connect(server.addr));
    joined(&mut a1, "a");
    joined(&mut a2, "a");
    say(&mut a1, "others a from a1");
    assert_eq!(recv_text(&mut a2), "from a1");
    assert_silent(&mut a1, QUIET);
}

#[test]
fn an_unsubscribed_client_gets_nothing_more() {
    let server = TestServer::start(Commands::default(), Config::default());
    let (mut a1, mut a2) = (connect(server.addr), connect(server.addr));
    joined(&mut a1, "a");
    joined(&mut a2, "a");
    joined(&mut a2, "b");
    say(&mut a2, "topics");
    assert_eq!(recv_text(&mut a2), "a,b");
    say(&mut a2, "leave a");
    assert_eq!(recv_text(&mut a2), "left a true false");
    say(&mut a2, "leave a");
    assert_eq!(recv_text(&mut a2), "left a false false");
    say(&mut a1, "pub a after");
    assert_eq!(recv_text(&mut a1), "after");
    assert_silent(&mut a2, QUIET);
    say(&mut a2, "topics");
    assert_eq!(recv_text(&mut a2), "b");
}

#[test]
fn a_handle_and_a_timer_publish_to_subscribers() {
    let server = TestServer::start(Commands::default(), Config::default());
    let (mut a, mut b) = (connect(server.addr), connect(server.addr));
    joined(&mut a, "a");
    joined(&mut b, "b");
    server
        .handle
        .publish("a", "from a thread")
        .expect("publish");
    assert_eq!(recv_text(&mut a), "from a thread");
    say(&mut b, "later a from a timer");
    assert_eq!(recv_text(&mut a), "from a timer");
    assert_silent(&mut b, QUIET);
}

/// Issue 14: a client's subscriptions end with it, and joins and leaves leave nothing behind.
#[test]
fn joining_and_leaving_100000_times_leaves_no_topic() {
    let server = TestServer::start(Commands::default(), Config::default());
    let mut probe = connect(server.addr);
    let mut a = connect(server.addr);
    say(&mut a, "churn 50000");
    assert_eq!(recv_text(&mut a), "churned");
    say(&mut probe, "count");
    assert_eq!(recv_text(&mut probe), "topics 0");
    // 50,000 more over separate connections' lifetimes: each joins two rooms and just leaves.
    for round in 0..200 {
        let mut c = connect(server.addr);
        joined(&mut c, &format!("keep-{round}"));
        joined(&mut c, "stay");
        say(&mut c, "churn 248");
        assert_eq!(recv_text(&mut c), "churned");
        // Still in two rooms: the connection's end takes it out of them.
        say(&mut c, "count");
        assert_ne!(recv_text(&mut c), "topics 0");
        drop(c);
    }
    assert!(
        wait_until(IO_TIMEOUT, || {
            say(&mut probe, "count");
            recv_text(&mut probe) == "topics 0"
        }),
        "the topics of clients that left are still there"
    );
}

/// Joins the room its path names and says which loop it is on; relays what it hears to the room.
struct LoopRooms(usize);

impl Handler for LoopRooms {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let room = ctx.request().path().to_owned();
        ctx.subscribe(&room);
        ctx.send(format!("loop {}", self.0));
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let room = ctx.request().path().to_owned();
        ctx.publish_except(&room, message);
    }
}

/// With a relay over a cluster's loops, a publish on one loop (from a handler or a handle)
/// reaches the room's members on every loop.
#[test]
fn a_publish_reaches_the_subscribers_of_every_loop_of_a_relay() {
    use simple_ws_server::{Cluster, Relay};
    let cluster = Cluster::bind("127.0.0.1:0", Config::default(), 2).expect("bind two loops");
    let addr = cluster.local_addr();
    let handles = cluster.handles();
    let _relay = Relay::new(handles.clone());
    let thread = std::thread::spawn(move || cluster.run(LoopRooms));
    let mut by_loop: [Vec<Client>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..40 {
        let mut client = connect_path(addr, "/x");
        let at = if recv_text(&mut client) == "loop 0" {
            0
        } else {
            1
        };
        by_loop[at].push(client);
        if by_loop.iter().all(|clients| !clients.is_empty()) {
            break;
        }
    }
    assert!(
        by_loop.iter().all(|c| !c.is_empty()),
        "one loop got every client"
    );
    let mut other_room = connect_path(addr, "/y");
    recv_text(&mut other_room);
    let mut sender = by_loop[0].remove(0);
    say(&mut sender, "across");
    for client in by_loop.iter_mut().flatten() {
        assert_eq!(recv_text(client), "across");
    }
    // A handle of loop 1 publishes: loop 0's members hear it too.
    handles[1].publish("/x", "from loop 1's handle").unwrap();
    assert_eq!(recv_text(&mut sender), "from loop 1's handle");
    for client in by_loop.iter_mut().flatten() {
        assert_eq!(recv_text(client), "from loop 1's handle");
    }
    assert_silent(&mut sender, QUIET);
    assert_silent(&mut other_room, QUIET);
    handles[0].stop().unwrap();
    thread.join().unwrap().unwrap();
}
