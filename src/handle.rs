//! A handle for other threads: queue sends and closes for the loop, wake it at once, stop it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use mio::Waker;

use crate::client::ClientId;
use crate::context::Action;
use crate::error::{Error, Result};
use crate::message::Message;

/// Reaches a running server from any thread: send to a client or to all, close a client, stop
/// the server.
///
/// Each call queues a command and wakes the loop through a `mio::Waker`, so it goes out at once
/// (not at the next tick). The queue is bounded ([`Config::command_queue`](crate::Config::command_queue)):
/// when it is full a call returns [`Error::QueueFull`] instead of blocking or growing memory.
/// Cloning is cheap.
///
/// ```no_run
/// use simple_ws_server::{examples::Echo, Config, Server};
///
/// let server = Server::bind("127.0.0.1:0", Config::default())?;
/// let handle = server.handle();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(60));
///     let _ = handle.broadcast("one minute has passed; goodbye");
///     let _ = handle.stop();
/// });
/// server.run(Echo)?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    commands: SyncSender<Action>,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

/// The loop's end of the handle.
pub(crate) struct Inbox {
    pub(crate) commands: Receiver<Action>,
    pub(crate) stop: Arc<AtomicBool>,
}

impl Inbox {
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

pub(crate) fn channel(waker: Waker, capacity: usize) -> (Handle, Inbox) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    let stop = Arc::new(AtomicBool::new(false));
    let handle = Handle {
        commands: tx,
        stop: stop.clone(),
        waker: Arc::new(waker),
    };
    (handle, Inbox { commands: rx, stop })
}

impl Handle {
    /// Send a message to one client; a client that has gone is skipped.
    pub fn send(&self, client: ClientId, message: impl Into<Message>) -> Result<()> {
        self.push(Action::Send(client, message.into()))
    }

    /// Send a message to every connected client.
    pub fn broadcast(&self, message: impl Into<Message>) -> Result<()> {
        self.push(Action::Broadcast {
            except: None,
            message: message.into(),
        })
    }

    /// Close a client with a close code and a reason (cut to 123 bytes).
    pub fn close(&self, client: ClientId, code: u16, reason: &str) -> Result<()> {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        self.push(Action::Close(client, code, reason[..end].to_owned()))
    }

    /// Stop the server gracefully, as SIGTERM does: every client is sent 1001 (going away) and
    /// [`Server::run`](crate::Server::run) returns once they are closed or after a second. This
    /// never fails for a full queue.
    pub fn stop(&self) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.wake()
    }

    fn push(&self, action: Action) -> Result<()> {
        match self.commands.try_send(action) {
            Ok(()) => self.wake(),
            Err(TrySendError::Full(_)) => Err(Error::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(Error::Stopped),
        }
    }

    fn wake(&self) -> Result<()> {
        self.waker.wake().map_err(|_| Error::Stopped)
    }
}
