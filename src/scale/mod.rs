//! Beyond one loop: several loops on one port (`cluster.rs`), a relay that carries one loop's
//! messages to the others and to a broker (`relay.rs`), and the Redis pub/sub broker between
//! instances (`redis_bridge/`, feature `redis`). Built only on the public API of the layers
//! below (`Server`, `Handle`, `Handler`).

pub(crate) mod cluster;
#[cfg(feature = "redis")]
pub mod redis_bridge;
pub(crate) mod relay;
