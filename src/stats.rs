//! What one loop counts as it runs (plain integer adds on the loop's thread, no atomics), and
//! the Prometheus text that shows it.
//!
//! The text format is written by hand rather than with the `prometheus-client` crate: a dozen
//! metrics with one label need forty lines, while the crate would put an atomic on every count
//! of the hot path (its counters are shared with a registry) and a dependency in every build.

use std::fmt::Write as _;

use crate::message::CloseReason;

/// The counters of one loop since it started, read by a handler through
/// [`Context::stats`](crate::Context::stats).
///
/// Messages and bytes count whole messages' payloads (not frame headers, not control frames);
/// `messages_out` counts one per recipient, so a broadcast to 100 clients counts 100. A
/// [`Fragment`](crate::Fragment) counts its bytes, and its message once, at its start.
///
/// ```
/// use simple_ws_server::{ClientContext, Handler, Message};
///
/// struct Counted;
///
/// impl Handler for Counted {
///     type State = ();
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), _: Message) {
///         let stats = ctx.stats();
///         ctx.send(format!("{} messages in so far", stats.messages_in));
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Open WebSocket connections now (handshake done, not closed).
    pub connections: u64,
    /// Connections held now, handshakes and closing connections included.
    pub sockets: u64,
    /// Messages received from clients.
    pub messages_in: u64,
    /// Payload bytes received from clients.
    pub bytes_in: u64,
    /// Messages queued for clients (one per recipient).
    pub messages_out: u64,
    /// Payload bytes queued for clients.
    pub bytes_out: u64,
    /// Bytes queued for clients and not yet taken by their sockets, summed over clients, now.
    pub backlog_bytes: u64,
    /// Times a client's reading was paused because its output backlog was high (flow control).
    pub flow_pauses: u64,
    /// Messages dropped for a client whose output backlog was high (flow control).
    pub flow_drops: u64,
    /// Topics with at least one subscriber on this loop, now (see
    /// [`ClientContext::subscribe`](crate::ClientContext::subscribe)).
    pub topics: u64,
    /// Connections closed, by why, in the order of `CLOSE_REASONS` (read with
    /// [`closes`](Stats::closes)).
    pub(crate) closes: [u64; 7],
}

impl Stats {
    /// The names of the `closes` counters, in order: the [`CloseReason`] each counts, in snake
    /// case.
    const CLOSE_REASONS: [&'static str; 7] = [
        "by_client",
        "by_server",
        "disconnected",
        "protocol_error",
        "timeout",
        "slow_consumer",
        "shutdown",
    ];

    /// Connections closed so far, by why: each [`CloseReason`] in snake case (`by_client`,
    /// `by_server`, `disconnected`, `protocol_error`, `timeout`, `slow_consumer`, `shutdown`)
    /// with its count, every reason listed (new reasons may be added).
    ///
    /// ```
    /// let stats = simple_ws_server::Stats::default();
    /// assert!(stats.closes().any(|(reason, count)| reason == "timeout" && count == 0));
    /// ```
    pub fn closes(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Self::CLOSE_REASONS.into_iter().zip(self.closes)
    }

    /// Counts a connection's end.
    pub(crate) fn closed(&mut self, reason: &CloseReason) {
        let index = match reason {
            CloseReason::ByClient { .. } => 0,
            CloseReason::ByServer { .. } => 1,
            CloseReason::Disconnected => 2,
            CloseReason::ProtocolError { .. } => 3,
            CloseReason::Timeout => 4,
            CloseReason::SlowConsumer => 5,
            CloseReason::Shutdown => 6,
        };
        self.closes[index] += 1;
    }

    /// The counters in the Prometheus text exposition format (version 0.0.4), every metric
    /// named `websocket_...`; serve it with the content type
    /// `text/plain; version=0.0.4; charset=utf-8`.
    ///
    /// ```
    /// let text = simple_ws_server::Stats::default().to_prometheus();
    /// assert!(text.contains("# TYPE websocket_connections gauge\nwebsocket_connections 0\n"));
    /// assert!(text.contains("websocket_closes_total{reason=\"timeout\"} 0\n"));
    /// ```
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP websocket_{name} {help}\n# TYPE websocket_{name} {kind}\nwebsocket_{name} {value}\n"
            );
        };
        metric(
            "connections",
            "gauge",
            "Open WebSocket connections.",
            self.connections,
        );
        metric(
            "sockets",
            "gauge",
            "Connections held, handshakes and closing ones included.",
            self.sockets,
        );
        metric(
            "topics",
            "gauge",
            "Topics with at least one subscriber.",
            self.topics,
        );
        metric(
            "messages_received_total",
            "counter",
            "Messages received from clients.",
            self.messages_in,
        );
        metric(
            "received_bytes_total",
            "counter",
            "Payload bytes received from clients.",
            self.bytes_in,
        );
        metric(
            "messages_sent_total",
            "counter",
            "Messages queued for clients, one per recipient.",
            self.messages_out,
        );
        metric(
            "sent_bytes_total",
            "counter",
            "Payload bytes queued for clients.",
            self.bytes_out,
        );
        metric(
            "backlog_bytes",
            "gauge",
            "Bytes queued for clients and not yet written.",
            self.backlog_bytes,
        );
        metric(
            "flow_pauses_total",
            "counter",
            "Times a client's reads were paused for its backlog.",
            self.flow_pauses,
        );
        metric(
            "flow_drops_total",
            "counter",
            "Messages dropped for a client's backlog.",
            self.flow_drops,
        );
        out.push_str(
            "# HELP websocket_closes_total Connections closed, by reason.\n\
             # TYPE websocket_closes_total counter\n",
        );
        for (name, count) in self.closes() {
            let _ = writeln!(out, "websocket_closes_total{{reason=\"{name}\"}} {count}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_close_reason_has_a_counter_and_the_text_is_well_formed() {
        let mut stats = Stats::default();
        stats.closed(&CloseReason::Timeout);
        stats.closed(&CloseReason::ByClient {
            code: 1000,
            reason: String::new(),
        });
        stats.messages_in = 3;
        let text = stats.to_prometheus();
        assert!(text.contains("websocket_closes_total{reason=\"timeout\"} 1\n"));
        assert!(text.contains("websocket_closes_total{reason=\"by_client\"} 1\n"));
        assert!(text.contains("websocket_messages_received_total 3\n"));
        // Every sample line is `name[{labels}] value`, after its HELP and TYPE lines.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("websocket_"), "{line}");
            value.parse::<u64>().unwrap();
        }
    }
}
