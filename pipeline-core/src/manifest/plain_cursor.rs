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

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// JSON's whitespace: space, tab, line feed, carriage return (not form feed).
    pub(crate) fn skip_ws(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and then `byte`, if it is there.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    /// Skips whitespace and then `byte`; `None` if it is not there.
    pub(crate) fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A string without escapes or control characters, borrowed from the text.
    pub(crate) fn string(&mut self) -> Option<&'t str> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let len = plain_run(&bytes[start..]);
        self.pos = start + len;
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        // Both ends are at ASCII quotes, so the slice is whole characters.
        Some(&self.text[start..start + len])
    }
}

/// How many bytes at the start of `bytes` are plain string content: neither a quote, a backslash
/// nor a control character. Eight bytes at a time: strings are most of a manifest's text.
pub(crate) fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte that is zero; the lowest one set is exact (a borrow only runs
    // upwards from a byte that really is zero).
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
        let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
        // Bytes below 0x20: subtracting 0x20 borrows out of them, and only them (not from bytes
        // of 0x80 and above, which `!word` masks).
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
        let special = quote | backslash | control;
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
}
