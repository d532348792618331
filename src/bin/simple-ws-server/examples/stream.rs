use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use simple_ws_server::{ClientContext, CloseReason, Context, Handler, Message, TimerId};

/// Live data: several times a second the server pushes a measurement of itself to every
/// client, and the built-in page draws it as a moving chart.
///
/// Each sample is one text message, a JSON object on one line:
///
/// - `seq` counts samples from 1, `t_ms` is the sample's time in milliseconds since the first
///   client connected;
/// - `clients` is how many clients are connected;
/// - `in_per_s` and `out_per_s` are the messages this server received and sent per second over
///   the last second (samples included);
/// - `signal` is a generated wave (two sines), something to watch move;
/// - with `--deflate`, once a message has gone out compressed, `deflate_payload_bytes` and
///   `deflate_wire_bytes`: the bytes of every compressed message before and after compression,
///   since the server started (the bytes deflate saved are the difference).
///
/// Samples go out on a timer ([`Context::set_timer`]) every
/// [`interval`](Stream::with_interval) (200 ms, 5 per second, by default), scheduled from the
/// first sample's time so the cadence does not drift. The timer runs only while clients are
/// connected. A message from a client is sent back to it, as the echo example does.
#[derive(Debug)]
pub struct Stream {
    interval: Duration,
    timer: Option<TimerId>,
    /// When the first sample went out.
    started: Option<Instant>,
    /// Sample `seq` is due at `anchor.0 + (seq - anchor.1) * interval`.
    anchor: Option<(Instant, u64)>,
    seq: u64,
    received: u64,
    sent: u64,
    /// (time, received, sent) at recent samples, for rates over the last second.
    history: VecDeque<(Instant, u64, u64)>,
}

impl Default for Stream {
    fn default() -> Self {
        Stream::with_interval(Duration::from_millis(200))
    }
}

impl Stream {
    /// Samples every `interval` (at least a millisecond) instead of every 200 ms.
    pub fn with_interval(interval: Duration) -> Self {
        Stream {
            interval: interval.max(Duration::from_millis(1)),
            timer: None,
            started: None,
            anchor: None,
            seq: 0,
            received: 0,
            sent: 0,
            history: VecDeque::new(),
        }
    }

    /// The generated signal at `t` seconds: two sines, in -1.3..=1.3.
    fn signal(t: f64) -> f64 {
        use std::f64::consts::TAU;
        (TAU * 0.2 * t).sin() + 0.3 * (TAU * 0.7 * t).sin()
    }

    /// The next sample's JSON, counting it as sent to `clients` clients.
    fn sample(&mut self, now: Instant, clients: usize) -> String {
        self.seq += 1;
        self.sent += clients as u64;
        let started = *self.started.get_or_insert(now);
        self.history.push_back((now, self.received, self.sent));
        while self
            .history
            .front()
            .is_some_and(|(at, _, _)| now.duration_since(*at) > Duration::from_secs(1))
        {
            self.history.pop_front();
        }
        let (in_per_s, out_per_s) = match (self.history.front(), self.history.back()) {
            (Some(&(t0, in0, out0)), Some(&(t1, in1, out1))) if t1 > t0 => {
                let secs = (t1 - t0).as_secs_f64();
                ((in1 - in0) as f64 / secs, (out1 - out0) as f64 / secs)
            }
            _ => (0.0, 0.0),
        };
        // The sample's nominal time keeps the signal smooth whatever the timer's jitter.
        let t = self.interval.as_secs_f64() * (self.seq - 1) as f64;
        let t_ms = now.duration_since(started).as_millis();
        let mut json = String::with_capacity(128);
        let _ = write!(
            json,
            "{{\"stream\":\"sample\",\"seq\":{},\"t_ms\":{t_ms},\"clients\":{clients},\
             \"in_per_s\":{in_per_s:.1},\"out_per_s\":{out_per_s:.1},\"signal\":{:.4}}}",
            self.seq,
            Self::signal(t),
        );
        Self::deflate_saving(&mut json);
        json
    }

    /// With --deflate, once messages have gone out compressed: what they came to, as two more
    /// fields before the closing brace, `deflate_payload_bytes` (before compression) and
    /// `deflate_wire_bytes` (compressed payloads on the wire), counted since the server started.
    #[cfg(feature = "deflate")]
    fn deflate_saving(json: &mut String) {
        let stats = simple_ws_server::deflate::stats();
        if stats.messages > 0 && json.ends_with('}') {
            json.pop();
            let _ = write!(
                json,
                ",\"deflate_payload_bytes\":{},\"deflate_wire_bytes\":{}}}",
                stats.payload_bytes, stats.wire_bytes
            );
        }
    }

    #[cfg(not(feature = "deflate"))]
    fn deflate_saving(_json: &mut String) {}

    /// Sets the timer for the next sample, on a grid of `interval`s so that the cadence does
    /// not drift. After a stall of more than an interval the grid starts again from now, rather
    /// than sending the missed samples in a burst.
    fn schedule(&mut self, ctx: &mut Context<'_>, now: Instant) {
        let (at, from) = *self.anchor.get_or_insert((now, self.seq));
        let steps = u32::try_from(self.seq - from).unwrap_or(u32::MAX);
        let mut next = at + self.interval.saturating_mul(steps);
        if next + self.interval < now {
            self.anchor = Some((now, self.seq));
            next = now;
        }
        self.timer = Some(ctx.set_timer(next.saturating_duration_since(now)));
    }
}

impl Handler for Stream {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        if self.timer.is_none() {
            // The first client starts the samples; a new run starts a new time line.
            self.started = None;
            self.anchor = None;
            self.seq = 0;
            self.history.clear();
            self.schedule(ctx, Instant::now());
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        self.received += 1;
        self.sent += 1;
        ctx.send(message);
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        // The client that left is no longer counted; stop sampling when none are left.
        if ctx.client_count() == 0 {
            if let Some(timer) = self.timer.take() {
                ctx.cancel_timer(timer);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        if self.timer != Some(timer) {
            return;
        }
        self.timer = None;
        let clients = ctx.client_count();
        if clients == 0 {
            return;
        }
        let now = Instant::now();
        let sample = self.sample(now, clients);
        ctx.broadcast(sample);
        self.schedule(ctx, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_numbered_json_lines_with_rates_over_the_last_second() {
        let mut stream = Stream::default();
        let start = Instant::now();
        let first = stream.sample(start, 2);
        // The deflate fields, when this process has compressed anything (the counters are
        // process-wide: another test in the same binary may have), come after these.
        let fields = "{\"stream\":\"sample\",\"seq\":1,\"t_ms\":0,\"clients\":2,\
             \"in_per_s\":0.0,\"out_per_s\":0.0,\"signal\":0.0000";
        assert!(
            first == format!("{fields}}}") || first.starts_with(&format!("{fields},\"deflate_")),
            "{first}"
        );
        stream.received += 3;
        let second = stream.sample(start + Duration::from_millis(500), 2);
        // 3 received and 2 sent in half a second.
        assert!(second.contains("\"seq\":2,\"t_ms\":500,"), "{second}");
        assert!(
            second.contains("\"in_per_s\":6.0,\"out_per_s\":4.0,"),
            "{second}"
        );
    }

    #[test]
    fn the_signal_stays_in_range() {
        for i in 0..10_000 {
            let s = Stream::signal(f64::from(i) * 0.01);
            assert!((-1.3..=1.3).contains(&s), "{s}");
        }
    }
}
