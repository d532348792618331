//! libFuzzer's input, read as a header choosing the limits and the cuts and then a client byte
//! stream, is decoded by simple-ws-server's codec and by tungstenite's; any difference beyond the
//! documented ones (src/codec/fuzz/mod.rs) panics, which libFuzzer reports as a crash.
#![no_main]
#![forbid(unsafe_code)]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simple_ws_server::fuzz_differential(data);
});
