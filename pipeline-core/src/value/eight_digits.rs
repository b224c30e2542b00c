//! Reading up to eight ASCII digits at once, as one 64-bit word: the line of a stream of numbers
//! is mostly its digits, and a byte-at-a-time loop costs ~10 instructions a digit (a load, a
//! check, a multiply-add and the loop's own bookkeeping; callgrind over a million 6-digit lines:
//! ~60 of the ~120 instructions spent on each line). The word is checked for digits and folded
//! pairwise, quads, then halves: three multiplies whatever the length.

/// `0x30` (`b'0'`) in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;
/// The high nibble of every byte.
const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;

/// The value of the `len` (1 to 8) ASCII digits that start `word` (its lowest bytes, in
/// little-endian order: the text's first byte is the word's lowest); `None` when any of them is
/// not a digit. The bytes after them are ignored: `*b"4096\n123"` read as 4 digits is 4096.
#[inline]
pub(super) fn eight_digits(word: u64, len: usize) -> Option<u64> {
    debug_assert!((1..=8).contains(&len));
    let unread = 8 * (8 - len as u32);
    let kept = u64::MAX >> unread;
    let digits = word & kept;
    let zeros = ZEROS & kept;
    // A digit's high nibble is 3, and adding 6 keeps it 3 (`0x39 + 6 = 0x3F`, `0x3A + 6 = 0x40`);
    // no byte that passes the first test carries into the next one in the second.
    if digits & HIGH_NIBBLES != zeros
        || (digits.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES & kept) != zeros
    {
        return None;
    }
    // The digits' values, moved to the word's top so the bytes below them are leading zeros.
    let values = (digits - zeros) << unread;
    // Each byte with the one above it (ten times the first plus the second), each pair of those
    // with the next pair (a hundred times), each four with the next four (ten thousand times).
    let pairs = values.wrapping_mul(10 << 8 | 1) >> 8;
    let quads = (pairs & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 << 16 | 1) >> 16;
    Some((quads & 0x0000_FFFF_0000_FFFF).wrapping_mul(10_000 << 32 | 1) >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `text`'s first bytes as a word, padded with what follows a line in a chunk.
    fn word(text: &[u8]) -> u64 {
        let mut bytes = *b"\n9876543";
        bytes[..text.len()].copy_from_slice(text);
        u64::from_le_bytes(bytes)
    }

    #[test]
    fn reads_every_length_and_the_extremes() {
        for (text, value) in [
            (&b"0"[..], 0),
            (b"7", 7),
            (b"10", 10),
            (b"123", 123),
            (b"4096", 4096),
            (b"99999", 99_999),
            (b"100000", 100_000),
            (b"1234567", 1_234_567),
            (b"99999999", 99_999_999),
            (b"00000001", 1),
        ] {
            assert_eq!(
                eight_digits(word(text), text.len()),
                Some(value),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_every_byte_that_is_not_a_digit() {
        for byte in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
            for at in 0..8 {
                let mut text = *b"12345678";
                text[at] = byte;
                assert_eq!(eight_digits(word(&text), 8), None, "{byte:#x} at {at}");
                // A byte after the digits is not theirs.
                if at > 0 {
                    assert!(eight_digits(word(&text), at).is_some(), "{byte:#x} at {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_reading_a_digit_at_a_time(text in "[0-9]{1,8}", after in any::<[u8; 8]>()) {
            let mut bytes = after;
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            let read = eight_digits(u64::from_le_bytes(bytes), text.len());
            prop_assert_eq!(read, Some(text.parse::<u64>().unwrap()));
        }

        #[test]
        fn any_bytes_are_digits_only_when_they_read_as_such(bytes in any::<[u8; 8]>(), len in 1usize..=8) {
            let read = eight_digits(u64::from_le_bytes(bytes), len);
            let text = &bytes[..len];
            let expected = text
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| std::str::from_utf8(text).unwrap().parse::<u64>().unwrap());
            prop_assert_eq!(read, expected);
        }
    }
}
