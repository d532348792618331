//! The figures of the matrix: what each measures, with which load and which metric.

pub struct Figure {
    pub id: &'static str,
    pub title: &'static str,
    pub mode: &'static str,
    pub server_mode: &'static str,
    pub conns: usize,
    pub inflight: usize,
    pub size: usize,
    pub metric: &'static str,
    /// Report as a ratio to raw (true) or as an absolute figure (false).
    pub ratio: bool,
}

/// Every figure (or those of `figs_only`), with the level's chat and idle connection counts.
pub fn figures(chat_n: usize, idle_n: usize, figs_only: &Option<Vec<String>>) -> Vec<Figure> {
    let mut figures = vec![
        Figure {
            id: "echo32x1",
            title: "echo 32 B, 64 conns x 1 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo32x16",
            title: "echo 32 B, 64 conns x 16 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 16,
            size: 32,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo4kx1",
            title: "echo 4 KiB, 64 conns x 1 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 4096,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo4kx16",
            title: "echo 4 KiB, 64 conns x 16 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 16,
            size: 4096,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "chat",
            title: "chat 32 B, 1 sender -> N receivers, 16 in flight (deliveries/s)",
            mode: "broadcast",
            server_mode: "chat",
            conns: chat_n,
            inflight: 16,
            size: 32,
            metric: "deliveries_per_s",
            ratio: true,
        },
        // simple-ws-server only: the chat's figure through topics (--example rooms; every
        // connection is on path "/", so all are in one room and each line is published to it).
        Figure {
            id: "rooms",
            title: "rooms 32 B, publish to N subscribers of one room, 16 in flight (deliveries/s)",
            mode: "broadcast",
            server_mode: "rooms",
            conns: chat_n,
            inflight: 16,
            size: 32,
            metric: "deliveries_per_s",
            ratio: false,
        },
        Figure {
            id: "idle",
            title: "idle connections: server RSS per connection (bytes)",
            mode: "idle",
            server_mode: "echo",
            conns: idle_n,
            inflight: 1,
            size: 32,
            metric: "rss_per_conn_bytes",
            ratio: false,
        },
        Figure {
            id: "handshake",
            title: "connect+upgrade+close, 64 concurrent (per server CPU-second)",
            mode: "handshake",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "handshakes_per_server_cpu_s",
            ratio: false,
        },
        // The handshake alone: connect, upgrade, TCP close, one round trip like the raw
        // server's cycle (connect, one byte echoed, TCP close); the ratio is to that
        // connection rate, both wall clock with the same generator.
        Figure {
            id: "upgrade",
            title: "connect+upgrade, then TCP close, 64 concurrent (per second, wall clock)",
            mode: "upgrade",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "handshakes_per_s",
            ratio: true,
        },
    ];
    if let Some(f) = &figs_only {
        figures.retain(|x| f.iter().any(|y| y == x.id));
    }
    figures
}
