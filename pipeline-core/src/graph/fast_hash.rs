//! A cheap hash for the validator's own small keys: node ids and resolved vertex pairs.
//!
//! std's SipHash resists collision attacks, which costs ~300 instructions for a 6-byte id; the
//! benchmark's 10-node manifest spent more time hashing than checking. Validation hashes each id
//! and edge once, so the worst an adversarial manifest can do with colliding ids is make its own
//! validation quadratic in its own size, not slow down anything else.

use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap`/`HashSet` hasher state for [`FastHasher`].
pub(crate) type FastHash = BuildHasherDefault<FastHasher>;

/// Mixes each word in with a rotate, xor and multiply (the scheme of rustc's FxHasher), starting
/// from a seed drawn once per process, so that ids crafted to collide on one machine do not
/// collide on another.
#[derive(Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl Default for FastHasher {
    fn default() -> Self {
        FastHasher {
            hash: process_seed(),
        }
    }
}

/// A random seed, the same for the whole process.
fn process_seed() -> u64 {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0u64))
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.add(short_word(rest));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }

    /// The high bits of a product are its well-mixed ones; the table picks buckets by the low
    /// bits, which depend only on the low bits of the input: ids that differ only past their
    /// first byte (`n0` ... `n99999`) all fell into a few buckets and made lookups linear.
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// 1 to 7 bytes as one word, read with at most two loads: the ids hashed here are short, and a
/// copy of a variable length was a call to `memcpy` per hash. Two overlapping reads cover every
/// byte, so equal-length inputs that differ still give different words.
fn short_word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len >= 4 {
        let head = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        let tail = u32::from_le_bytes(bytes[len - 4..].try_into().expect("4 bytes"));
        u64::from(head) | u64::from(tail) << 32
    } else {
        // 1..=3 bytes: first, middle and last (repeats for shorter inputs).
        u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tells_ids_apart_including_ones_that_differ_past_eight_bytes() {
        let ids = [
            "a",
            "b",
            "pass_0",
            "pass_1",
            "calc_1",
            "long_name_1",
            "long_name_2",
            "",
        ];
        let set: HashSet<&str, FastHash> = ids.iter().copied().collect();
        assert_eq!(set.len(), ids.len());
        assert!(set.contains("long_name_2") && !set.contains("long_name_3"));
    }

    #[test]
    fn ids_differing_past_the_first_byte_spread_over_buckets() {
        use std::hash::BuildHasher;
        // The low 12 bits pick among 4096 buckets: 100,000 numbered ids must use most of them.
        let buckets: HashSet<u64> = (0..100_000)
            .map(|i| FastHash::default().hash_one(format!("n{i}").as_str()) & 0xfff)
            .collect();
        assert!(buckets.len() > 4000, "{} buckets", buckets.len());
    }

    #[test]
    fn short_words_keep_every_byte() {
        for (a, b) in [
            ("ab", "ba"),
            ("abc", "abd"),
            ("abcde", "abcdf"),
            ("abcdefg", "abcdxfg"),
        ] {
            assert_ne!(
                short_word(a.as_bytes()),
                short_word(b.as_bytes()),
                "{a} vs {b}"
            );
        }
        assert_eq!(short_word(b"abcd"), u64::from_le_bytes(*b"abcdabcd"));
    }
}
