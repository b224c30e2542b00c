//! [`Field`]: a key the plain reader knows, packed into words at compile time, so that the key
//! standing in the text is recognised by comparing two masked words instead of being read as a
//! string and then matched (a manifest's keys are half of its strings).

/// A known key of up to 16 bytes: its bytes as two little-endian words and the masks covering them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// The key's length in bytes.
    pub(crate) len: usize,
    words: [u64; 2],
    masks: [u64; 2],
}

impl Field {
    /// `name` packed (at most 16 bytes: longer is a compile-time error where it is a constant).
    pub(crate) const fn new(name: &str) -> Field {
        let bytes = name.as_bytes();
        assert!(bytes.len() <= 16, "a field's name is at most 16 bytes");
        let mut words = [0u64; 2];
        let mut masks = [0u64; 2];
        let mut i = 0;
        while i < bytes.len() {
            words[i / 8] |= (bytes[i] as u64) << (8 * (i % 8));
            masks[i / 8] |= 0xff << (8 * (i % 8));
            i += 1;
        }
        Field {
            len: bytes.len(),
            words,
            masks,
        }
    }

    /// Each of `names` packed.
    pub(crate) const fn all<const N: usize>(names: [&str; N]) -> [Field; N] {
        let mut fields = [Field::new(""); N];
        let mut i = 0;
        while i < N {
            fields[i] = Field::new(names[i]);
            i += 1;
        }
        fields
    }

    /// Whether the 16 bytes `words` (from [`load16`](super::plain_cursor::load16)) start with
    /// this key. What follows it (the closing quote) is the caller's to check.
    #[inline]
    pub(crate) fn is_at(&self, words: [u64; 2]) -> bool {
        (words[0] & self.masks[0]) == self.words[0] && (words[1] & self.masks[1]) == self.words[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::plain_cursor::load16;

    #[test]
    fn a_field_is_recognised_at_the_start_of_the_text_only() {
        let names = ["id", "node_type", "channel_capacity", ""];
        let fields = Field::all(names);
        for (field, name) in fields.iter().zip(names) {
            assert_eq!(field.len, name.len());
            for after in ["\"", "\": 1, \"more\": 2", "x", ""] {
                let text = format!("{name}{after}");
                assert!(field.is_at(load16(text.as_bytes(), 0)), "{text}");
            }
            for other in ["", "i", "idd", "node_typ", "Id", "channel_capacitx", "xid"] {
                if other.starts_with(name) {
                    continue;
                }
                assert!(!field.is_at(load16(other.as_bytes(), 0)), "{other}");
            }
        }
    }
}
