//! A minimal RFC 1951 block reader for tests: decodes the symbols of a raw deflate stream and
//! reports the longest back-reference distance, so a test can prove an agreed window size is
//! honoured (zlib-rs's inflater always keeps a 32 KiB window and so cannot check this).

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXT: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXT: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for i in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v |= u32::from((byte >> (self.pos % 8)) & 1) << i;
            self.pos += 1;
        }
        Some(v)
    }
}

/// A canonical Huffman code: codes per length and symbols in code order.
struct Huff {
    count: [u16; 16],
    symbol: Vec<u16>,
}

fn huff(lengths: &[u8]) -> Huff {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut symbol = Vec::new();
    for len in 1..16 {
        for (s, &l) in lengths.iter().enumerate() {
            if usize::from(l) == len {
                symbol.push(s as u16);
            }
        }
    }
    Huff { count, symbol }
}

fn decode(b: &mut Bits<'_>, h: &Huff) -> Option<usize> {
    let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
    for len in 1..16 {
        code |= b.bits(1)? as i32;
        let count = i32::from(h.count[len]);
        if code - first < count {
            return h
                .symbol
                .get((index + code - first) as usize)
                .map(|&s| usize::from(s));
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    None
}

/// The longest distance any match in `stream` refers back (0 if none); `None` if the stream
/// does not parse. Reads blocks until the input ends on a block boundary.
pub(crate) fn max_distance(stream: &[u8]) -> Option<usize> {
    let mut b = Bits {
        data: stream,
        pos: 0,
    };
    let mut max = 0;
    while b.pos / 8 < stream.len() {
        let last = b.bits(1)?;
        match b.bits(2)? {
            0 => {
                b.pos = b.pos.div_ceil(8) * 8;
                let len = b.bits(16)? as usize;
                b.bits(16)?;
                b.pos += 8 * len;
            }
            kind @ (1 | 2) => {
                let (lit, dist) = if kind == 1 {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (huff(&l), huff(&[5; 30]))
                } else {
                    let (hlit, hdist, hclen) = (
                        b.bits(5)? as usize + 257,
                        b.bits(5)? as usize + 1,
                        b.bits(4)? + 4,
                    );
                    let order = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &i in &order[..hclen as usize] {
                        cl[i] = b.bits(3)? as u8;
                    }
                    let clh = huff(&cl);
                    let mut lens = Vec::new();
                    while lens.len() < hlit + hdist {
                        match decode(&mut b, &clh)? {
                            s @ 0..=15 => lens.push(s as u8),
                            16 => {
                                let prev = *lens.last()?;
                                lens.extend(std::iter::repeat_n(prev, 3 + b.bits(2)? as usize));
                            }
                            17 => lens.extend(std::iter::repeat_n(0, 3 + b.bits(3)? as usize)),
                            _ => lens.extend(std::iter::repeat_n(0, 11 + b.bits(7)? as usize)),
                        }
                    }
                    (huff(&lens[..hlit]), huff(&lens[hlit..]))
                };
                loop {
                    let sym = decode(&mut b, &lit)?;
                    if sym < 256 {
                        continue;
                    }
                    if sym == 256 {
                        break;
                    }
                    let i = sym - 257;
                    b.bits(u32::from(*LEXT.get(i)?))?;
                    let d = decode(&mut b, &dist)?;
                    let distance =
                        usize::from(*DBASE.get(d)?) + b.bits(u32::from(DEXT[d]))? as usize;
                    max = max.max(distance);
                    let _ = LBASE[i];
                }
            }
            _ => return None,
        }
        if last == 1 {
            break;
        }
    }
    Some(max)
}
