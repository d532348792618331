//! The cargo-fuzz target's input (`fuzz/fuzz_targets/differential.rs`, `scripts/fuzz --long`):
//! libFuzzer's bytes read as a [`HEADER`]-byte header choosing the limits and where each
//! decoder's stream is cut, then the client byte stream itself. The comparison is the seeded
//! fuzzer's ([`super::compare`]); the corpus starts from the seeded generator's streams.

use super::super::Limits;
use super::gen::{split, Rng};

/// Header bytes: `[0]` the kind of limits; `[1..3]`, `[3..5]` the frame and message limits
/// (little-endian, scaled by the kind); `[5..7]`, `[7..9]` the seeds of the cuts for this codec
/// and for tungstenite.
pub(super) const HEADER: usize = 9;

/// The limits a header asks for: small (frames up to 300 bytes, messages up to 600), medium (up
/// to 64 KiB), or the server's defaults (1 MiB each), like the generator's mix.
fn limits(head: &[u8; HEADER]) -> Limits {
    let frame = usize::from(u16::from_le_bytes([head[1], head[2]]));
    let message = usize::from(u16::from_le_bytes([head[3], head[4]]));
    match head[0] % 4 {
        0 => Limits {
            max_frame: 1 + frame % 300,
            max_message: 1 + message % 600,
        },
        1 => Limits {
            max_frame: 200 + frame,
            max_message: 1 + message,
        },
        _ => Limits {
            max_frame: 1 << 20,
            max_message: 1 << 20,
        },
    }
}

/// The generator's cutter, seeded from two header bytes (never zero: xorshift's fixed point).
fn cutter(seed: [u8; 2]) -> Rng {
    Rng(u64::from(u16::from_le_bytes(seed)).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
}

/// Decodes the stream after the header with this codec and with tungstenite, each cut where
/// the header says; panics (a libFuzzer crash) on any difference beyond the documented ones.
/// Inputs shorter than the header are ignored.
pub(crate) fn differential(data: &[u8]) {
    let Some((head, bytes)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let limits = limits(head);
    let ours = split(&mut cutter([head[5], head[6]]), bytes);
    let theirs = split(&mut cutter([head[7], head[8]]), bytes);
    if let Err(diff) = super::compare(&ours, &theirs, &limits) {
        let lens = |chunks: &[&[u8]]| chunks.iter().map(|c| c.len()).collect::<Vec<_>>();
        panic!(
            "{limits:?}, {} bytes cut {:?} for ours, {:?} for tungstenite\n{diff}",
            bytes.len(),
            lens(&ours),
            lens(&theirs)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::gen::{stream, Rng};
    use super::HEADER;

    /// The largest seed written: `scripts/fuzz` runs libFuzzer with `-max_len` 16384.
    const MAX_LEN: usize = 16 * 1024;

    /// One corpus entry from the generator: a random header, then a generated stream.
    fn case(rng: &mut Rng) -> Vec<u8> {
        let mut out: Vec<u8> = (0..HEADER).map(|_| rng.next() as u8).collect();
        out.extend(stream(rng));
        out
    }

    /// The generator's cases pass through the cargo-fuzz entry point (so the corpus it seeds is
    /// accepted, and the input format reaches the comparison).
    #[test]
    fn generated_cases_agree_through_the_cargo_fuzz_input() {
        let mut rng = Rng(0x00c0_ffee);
        for _ in 0..500 {
            super::differential(&case(&mut rng));
        }
        super::differential(&[]);
        super::differential(&[0; HEADER]);
    }

    /// Writes `FUZZ_CASES` (default 2000) generated cases of at most 16 KiB into the directory
    /// `FUZZ_CORPUS`: `scripts/fuzz` seeds the cargo-fuzz corpus with it.
    #[test]
    #[ignore = "run by scripts/fuzz to seed the cargo-fuzz corpus"]
    fn write_corpus() {
        let dir = std::env::var_os("FUZZ_CORPUS").expect("FUZZ_CORPUS names the corpus folder");
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("create the corpus folder");
        let cases = super::super::env("FUZZ_CASES").unwrap_or(2000);
        let mut rng = Rng(0x5eed_c0de);
        let mut written = 0;
        while written < cases {
            let case = case(&mut rng);
            if case.len() <= MAX_LEN {
                std::fs::write(dir.join(format!("gen-{written:05}")), &case)
                    .expect("write a corpus file");
                written += 1;
            }
        }
        eprintln!("wrote {written} generated cases to {}", dir.display());
    }
}
