//! Finding the `\n`s of a chunk of input eight bytes at a time: the reader splits what it reads
//! into numbered lines, and a byte-at-a-time search cost ~5 instructions a byte (a fifth of an
//! int line).
//!
//! Each word is looked at once and its newlines taken from a mask ([`Ends`]): splitting with
//! `str::split` (a `memchr` call per line, set up again each time) cost 139 instructions per int
//! line and 233 per 64-byte object line, more than parsing an int.

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW_BITS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is `\n`, of no other: `(b & 0x7f) + 0x7f` sets a
/// byte's high bit when any of its low bits is set, without carrying into the next byte.
#[inline]
fn newline_bits(word: u64) -> u64 {
    let x = word ^ (ONES * u64::from(b'\n'));
    !(((x & LOW_BITS) + LOW_BITS) | x) & HIGH_BITS
}

/// The word of `bytes` at `at`: eight bytes, or the last few with zeros after them.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(word) => u64::from_le_bytes(word.try_into().expect("8 bytes")),
        None => {
            let mut word = [0u8; 8];
            word[..bytes.len() - at].copy_from_slice(&bytes[at..]);
            u64::from_le_bytes(word)
        }
    }
}

/// The positions of the `\n`s of `bytes`, in order.
///
/// `ends(b"12\n\nabc\n")` gives 2, 3 and 7.
pub fn ends(bytes: &[u8]) -> Ends<'_> {
    Ends {
        bytes,
        at: 0,
        bits: match bytes.is_empty() {
            true => 0,
            false => newline_bits(word_at(bytes, 0)),
        },
    }
}

/// The iterator of [`ends`]: the word at `at` with its newlines not yet taken in `bits`.
pub struct Ends<'a> {
    bytes: &'a [u8],
    at: usize,
    bits: u64,
}

impl Iterator for Ends<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.at += 8;
            if self.at >= self.bytes.len() {
                return None;
            }
            self.bits = newline_bits(word_at(self.bytes, self.at));
        }
        let end = self.at + self.bits.trailing_zeros() as usize / 8;
        self.bits &= self.bits - 1;
        Some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every arrangement of newlines and near misses (bytes one bit away, `\n` with the high bit
    /// set) over lengths around whole words.
    fn near_miss_texts() -> impl Iterator<Item = Vec<u8>> {
        let bytes_of = [b'\n', b'\x0b', b'\x09', b'\x8a', b'\x00', b'a', b'\xff'];
        (0..=25usize).flat_map(move |len| {
            (0..200u64).map(move |seed| {
                (0..len)
                    .map(|i| {
                        let pick = (seed.wrapping_mul(6364136223846793005) >> (i % 60)) as usize
                            + i * 7
                            + seed as usize;
                        bytes_of[pick % bytes_of.len()]
                    })
                    .collect()
            })
        })
    }

    #[test]
    fn ends_are_where_a_byte_by_byte_search_finds_newlines() {
        for bytes in near_miss_texts() {
            let expected: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'\n').collect();
            assert_eq!(ends(&bytes).collect::<Vec<_>>(), expected, "{bytes:?}");
        }
        assert_eq!(ends(b"12\n\nabc\n").collect::<Vec<_>>(), [2, 3, 7]);
    }

    /// Every arrangement of [`near_miss_texts`] is counted as a byte-by-byte count counts it.
    #[test]
    fn counts_what_a_byte_by_byte_count_counts() {
        for bytes in near_miss_texts() {
            let expected = bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(ends(&bytes).count(), expected, "{bytes:?}");
        }
    }

    #[test]
    fn every_byte_value_at_every_position() {
        for len in 1..=17 {
            for byte in 0..=255u8 {
                for at in 0..len {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = byte;
                    assert_eq!(ends(&bytes).count(), usize::from(byte == b'\n'));
                }
            }
        }
    }
}
