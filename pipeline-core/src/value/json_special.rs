//! Finding the next byte of a JSON string that is not copied as is — `"`, `\` or a control
//! character — eight bytes at a time: the reader and the writer of JSON lines spend most of
//! their time walking strings, and most strings have no such byte at all.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The index of the first `"`, `\` or byte below 0x20 in `bytes`.
///
/// Each test is the classic "has a zero byte" trick on a word; a borrow can flag a byte after a
/// true hit, never before one, so the lowest flagged byte is the first hit.
#[inline]
pub(crate) fn first_special(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let hits = specials_in(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| is_special(b))
        .map(|i| at + i)
}

/// Whether `bytes` starts with `len` bytes copied as they are into a JSON string followed by a
/// `"`: a string of exactly that length, without escapes. A length under eight, with eight bytes
/// to read, is checked in one word.
#[inline(always)]
pub(crate) fn plain_string_of_len(bytes: &[u8], len: usize) -> bool {
    if len < 8 {
        if let Some(head) = bytes.first_chunk::<8>() {
            let hits = specials_in(u64::from_le_bytes(*head));
            // The first special byte is the one at `len`, and it is the quote.
            return hits != 0 && (hits.trailing_zeros() / 8) as usize == len && head[len] == b'"';
        }
    }
    bytes.get(len) == Some(&b'"') && first_special(&bytes[..len]).is_none()
}

/// The high bit of the lowest byte of `word` (little-endian) that is a `"`, `\` or below 0x20 is
/// set, no bit below it, maybe some above it; zero when no byte is one.
#[inline(always)]
pub(crate) fn specials_in(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (word.wrapping_sub(ONES * 0x20) & !word))
        & HIGH_BITS
}

/// Whether `byte` is not copied as is into a JSON string.
#[inline]
pub(crate) fn is_special(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn finds_what_a_byte_by_byte_search_finds(bytes in prop::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, Just(0x7f), Just(0x80)],
            0..40,
        )) {
            prop_assert_eq!(first_special(&bytes), bytes.iter().position(|&b| is_special(b)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn a_plain_string_of_a_length_is_what_a_byte_by_byte_check_finds(
            bytes in prop::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, Just(b'a')],
                0..20,
            ),
            len in 0usize..20,
        ) {
            let expected = bytes.get(len) == Some(&b'"') && !bytes[..len].iter().any(|&b| is_special(b));
            prop_assert_eq!(plain_string_of_len(&bytes, len), expected);
        }
    }

    #[test]
    fn every_byte_value_at_every_position() {
        for special in 0..=255u8 {
            for at in 0..19 {
                let mut bytes = vec![b'a'; 19];
                bytes[at] = special;
                let expected = is_special(special).then_some(at);
                assert_eq!(first_special(&bytes), expected, "byte {special} at {at}");
            }
        }
    }
}
