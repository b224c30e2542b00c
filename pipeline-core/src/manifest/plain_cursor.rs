//! [`PlainCursor`]: where the hand readers of plain JSON (the manifest's, in `plain.rs`, and
//! the built-in nodes' params, in `builtin_specs/plain_params.rs`) stand in their text, with
//! the steps both take: whitespace, one expected byte, a string without escapes.

/// A position in JSON text. Readers built on it give up (`None`) at anything unusual and leave
/// that text to serde, which makes every error.
pub(crate) struct PlainCursor<'t> {
    pub(crate) text: &'t str,
    pub(crate) pos: usize,
}

impl<'t> PlainCursor<'t> {
    /// At the start of `text`.
    pub(crate) fn new(text: &'t str) -> Self {
        PlainCursor { text, pos: 0 }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// JSON's whitespace: space, tab, line feed, carriage return (not form feed).
    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        let bytes = self.text.as_bytes();
        let mut pos = self.pos;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    /// Skips whitespace and then `byte`, if it is there.
    #[inline]
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        // Most bytes looked for stand right here, or after one space.
        let bytes = self.text.as_bytes();
        match bytes.get(self.pos) {
            Some(&next) if next == byte => {
                self.pos += 1;
                return true;
            }
            Some(b' ') if bytes.get(self.pos + 1) == Some(&byte) => {
                self.pos += 2;
                return true;
            }
            _ => {}
        }
        self.skip_ws();
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    /// Skips whitespace and then `byte`; `None` if it is not there.
    #[inline]
    pub(crate) fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A string without escapes or control characters, borrowed from the text.
    pub(crate) fn string(&mut self) -> Option<&'t str> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let [low, high] = load16(bytes, start);
        let (first, second) = (special_bytes(low), special_bytes(high));
        // Most strings end within 16 bytes: found in the two words already loaded.
        let len = if first != 0 {
            (first.trailing_zeros() / 8) as usize
        } else if second != 0 {
            8 + (second.trailing_zeros() / 8) as usize
        } else {
            // Past the end, `load16` pads with zero bytes, which stop the string: the text goes on.
            16 + plain_run(&bytes[start + 16..])
        };
        if bytes.get(start + len) != Some(&b'"') {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are at ASCII quotes, so the slice is whole characters.
        self.text.get(start..start + len)
    }
}

/// The high bit of each byte of `word` that is a quote, a backslash or a control character (the
/// bytes a plain string stops at). The lowest bit set is exact: a borrow only runs upwards from a
/// byte that really matches.
#[inline]
pub(crate) fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte that is zero.
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    // Bytes below 0x20: subtracting 0x20 borrows out of them, and only them (not from bytes
    // of 0x80 and above, which `!word` masks).
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control
}

/// The 16 bytes of `bytes` from `at` as two little-endian words; past the end, zero bytes (which
/// are control characters: a plain string never runs into them).
#[inline]
pub(crate) fn load16(bytes: &[u8], at: usize) -> [u64; 2] {
    let sixteen = match bytes.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        Some(sixteen) => *sixteen,
        None => {
            let mut padded = [0u8; 16];
            let rest = bytes.get(at..).unwrap_or_default();
            padded[..rest.len()].copy_from_slice(rest);
            padded
        }
    };
    let both = u128::from_le_bytes(sixteen);
    [both as u64, (both >> 64) as u64]
}

/// How many bytes at the start of `bytes` are plain string content: neither a quote, a backslash
/// nor a control character. Eight bytes at a time: strings are most of a manifest's text.
pub(crate) fn plain_run(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let special = special_bytes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if special != 0 {
            return done + (special.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done + chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(chunks.remainder().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        let naive = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len())
        };
        for special in [b'"', b'\\', 0, b'\n', 0x1f] {
            for len in 0..20 {
                for at in 0..=len {
                    // Bytes around the special one that sit next to it in value or high-bit.
                    let mut bytes: Vec<u8> = (0..len)
                        .map(|i| [b'a', 0x20, 0xff, 0x80, b'!', b'#', b'['][i % 7])
                        .collect();
                    if at < len {
                        bytes[at] = special;
                    }
                    assert_eq!(plain_run(&bytes), naive(&bytes), "{bytes:?}");
                }
            }
        }
        assert_eq!(plain_run("héllo wörld, a long one\"".as_bytes()), 25);
    }

    #[test]
    fn sixteen_bytes_are_loaded_anywhere_and_padded_with_zeros_past_the_end() {
        let bytes: Vec<u8> = (1..=20).collect();
        for at in 0..=22 {
            let words = load16(&bytes, at);
            let mut expected = [0u8; 16];
            for (i, byte) in expected.iter_mut().enumerate() {
                *byte = bytes.get(at + i).copied().unwrap_or(0);
            }
            let low = u64::from_le_bytes(expected[..8].try_into().unwrap());
            let high = u64::from_le_bytes(expected[8..].try_into().unwrap());
            assert_eq!(words, [low, high], "{at}");
        }
    }
}
