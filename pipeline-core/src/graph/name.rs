//! [`Name`]: a node id, output name or node type name, kept in 16 bytes.
//!
//! A name of up to [`Name::INLINE`] bytes (nearly every id and type) is held in the value itself:
//! made without an allocation and copied, not shared, so holding it in the graph, its
//! description and the running pipeline costs no atomic reference count (a 10-node manifest's
//! construction made 246 atomic updates with names as `Arc<str>`, callgrind). A longer name is an
//! `Arc<str>`, shared.
//!
//! The text of an inline name starts at the value's first byte, so it is made and compared as two
//! aligned words; the last byte, never part of the text, tells the two kinds apart and holds an
//! inline name's length.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::Arc;

/// A node id, output name or node type name: written once by a front end and held by the graph,
/// its description and the running pipeline. See the [module](self) for how it is kept.
///
/// ```
/// use pipeline_core::graph::Name;
/// let id: Name = "add".into();
/// let copy = Name::clone(&id);
/// assert_eq!((&*copy, copy.len()), ("add", 3));
/// assert_eq!(id, copy);
/// let long = Name::from("a node id longer than fifteen bytes");
/// assert_eq!(long.clone(), long);
/// ```
#[repr(C, align(8))]
pub struct Name {
    /// Inline: the text, zeros after it, and [`INLINE_TAG`] plus the length in the last byte.
    /// Shared: the `Arc<str>`'s data pointer and length, and [`SHARED_TAG`] in the last byte.
    bytes: [u8; 16],
}

/// The last byte of an inline name (never text: at most 15 bytes are) is this plus its length.
const INLINE_TAG: u8 = 0xC0;
/// The last byte of a shared name (a length's top byte is zero on every platform Rust runs on).
const SHARED_TAG: u8 = 0xFF;

// A shared name holds an `Arc<str>`, which may move between threads and be read from several.
unsafe impl Send for Name {}
unsafe impl Sync for Name {}

impl Name {
    /// The longest name kept inline.
    pub const INLINE: usize = 15;

    /// `text` as a name.
    ///
    /// ```
    /// use pipeline_core::graph::Name;
    /// assert_eq!(&*Name::new("pass_0"), "pass_0");
    /// ```
    #[inline]
    pub fn new(text: &str) -> Name {
        if text.len() <= Self::INLINE {
            let mut bytes = [0u8; 16];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            bytes[15] = INLINE_TAG + text.len() as u8;
            Name { bytes }
        } else {
            Name::shared(Arc::from(text))
        }
    }

    /// A name of up to 15 bytes from its first 16 bytes as two little-endian words, zero past its
    /// end (as the manifest reader loads them), without touching the text again.
    ///
    /// # Panics
    /// If `len` is over [`Name::INLINE`].
    ///
    /// # Safety
    /// The words' first `len` bytes must be UTF-8 text ([`as_str`](Self::as_str) does not check
    /// it again), and the bytes after them zero (else equal names compare unequal). A debug
    /// build checks both.
    #[inline]
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // lowering's
    pub(crate) unsafe fn from_words(words: [u64; 2], len: usize) -> Name {
        assert!(len <= Self::INLINE);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&words[0].to_le_bytes());
        bytes[8..].copy_from_slice(&words[1].to_le_bytes());
        bytes[15] = INLINE_TAG + len as u8;
        let name = Name { bytes };
        debug_assert!(std::str::from_utf8(&name.bytes[..len]).is_ok());
        debug_assert!(name.bytes[len..15].iter().all(|&b| b == 0));
        name
    }

    fn shared(text: Arc<str>) -> Name {
        let len = text.len();
        let data = Arc::into_raw(text) as *const u8;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&(data as usize as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&(len as u64).to_le_bytes());
        bytes[15] = SHARED_TAG;
        Name { bytes }
    }

    /// Whether the name is kept inline (not shared through a reference count).
    ///
    /// ```
    /// use pipeline_core::graph::Name;
    /// assert!(Name::from("calc_1").is_inline());
    /// assert!(!Name::from("a_node_id_of_sixteen").is_inline());
    /// ```
    #[inline]
    pub fn is_inline(&self) -> bool {
        self.bytes[15] != SHARED_TAG
    }

    /// The name's 16 bytes as two words: equal for equal inline names (text, zeros, length) and
    /// for two holders of one shared name; a long name written twice is two shared names.
    #[inline]
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // lowering's
    pub(crate) fn raw(&self) -> [u64; 2] {
        let word = |at: usize| u64::from_ne_bytes(self.bytes[at..at + 8].try_into().expect("8"));
        [word(0), word(8)]
    }

    /// Whether the name is inline and the ASCII `byte` (not zero) is not in its text: both words
    /// tested at once, the text not read byte by byte (the bytes past an inline name's text are
    /// zeros and its last byte a tag of `0xC0` or more, so neither matches).
    #[inline]
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // lowering's
    pub(crate) fn inline_without(&self, byte: u8) -> bool {
        debug_assert!(byte != 0 && byte.is_ascii());
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGHS: u64 = ONES << 7;
        // A zero byte in `word ^ byte-in-every-lane` is `byte` in `word`.
        let has = |word: u64| {
            let x = word ^ (ONES * u64::from(byte));
            x.wrapping_sub(ONES) & !x & HIGHS != 0
        };
        let [low, high] = self.raw();
        self.is_inline() && !has(low) && !has(high)
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        let tag = self.bytes[15];
        if tag != SHARED_TAG {
            let len = usize::from(tag - INLINE_TAG);
            // SAFETY: an inline name's first `len` bytes are UTF-8 text (`new`, `from_words`).
            unsafe { std::str::from_utf8_unchecked(self.bytes.get_unchecked(..len)) }
        } else {
            // SAFETY: a shared name's text is its `Arc<str>`'s, alive while the name holds it.
            unsafe { &*self.arc_ptr() }
        }
    }

    /// A shared name's `Arc<str>` as the raw pointer `Arc::into_raw` gave.
    #[inline]
    fn arc_ptr(&self) -> *const str {
        let data = u64::from_le_bytes(self.bytes[..8].try_into().expect("8 bytes")) as usize;
        let len = u64::from_le_bytes(self.bytes[8..].try_into().expect("8 bytes"));
        let len = (len & !(u64::from(SHARED_TAG) << 56)) as usize;
        std::ptr::slice_from_raw_parts(data as *const u8, len) as *const str
    }

    /// A shared name's `Arc<str>`, still held by the name.
    #[inline]
    fn arc(&self) -> ManuallyDrop<Arc<str>> {
        // SAFETY: `arc_ptr` is what `Arc::into_raw` gave; the name keeps its count.
        ManuallyDrop::new(unsafe { Arc::from_raw(self.arc_ptr()) })
    }
}

impl Clone for Name {
    #[inline]
    fn clone(&self) -> Name {
        if !self.is_inline() {
            let arc = self.arc();
            // The copy below holds one more count of the same `Arc`.
            std::mem::forget(Arc::clone(&arc));
        }
        Name { bytes: self.bytes }
    }
}

impl Drop for Name {
    #[inline]
    fn drop(&mut self) {
        if !self.is_inline() {
            ManuallyDrop::into_inner(self.arc());
        }
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self
    }
}

impl From<&str> for Name {
    #[inline]
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::new(&text)
    }
}

impl From<Arc<str>> for Name {
    fn from(text: Arc<str>) -> Name {
        if text.len() <= Name::INLINE {
            Name::new(&text)
        } else {
            Name::shared(text)
        }
    }
}

impl From<Name> for Arc<str> {
    fn from(name: Name) -> Arc<str> {
        if name.is_inline() {
            Arc::from(name.as_str())
        } else {
            Arc::clone(&name.arc())
        }
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.as_str().to_string()
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::new("")
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        // Inline names are equal exactly when their bytes are; a shared name is never equal to an
        // inline one (their lengths differ).
        if self.is_inline() || other.is_inline() {
            self.bytes == other.bytes
        } else {
            self.as_str() == other.as_str()
        }
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    /// As `str` hashes: a map keyed by names is looked up by `&str`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(feature = "manifest-model")]
impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

#[cfg(feature = "manifest-model")]
impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Name, E> {
                Ok(Name::new(text))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(feature = "manifest-model")]
impl schemars::JsonSchema for Name {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_names_are_inline_and_long_ones_shared_by_count() {
        for len in 0..=40 {
            let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let name = Name::from(text.as_str());
            assert_eq!(name.is_inline(), len <= Name::INLINE, "{len}");
            assert_eq!((&*name, name.len()), (text.as_str(), len));
        }
        let arc: Arc<str> = Arc::from("a name of more than fifteen bytes");
        let name = Name::from(Arc::clone(&arc));
        assert_eq!(Arc::strong_count(&arc), 2);
        let copies: Vec<Name> = (0..3).map(|_| name.clone()).collect();
        assert_eq!(Arc::strong_count(&arc), 5);
        assert!(copies.iter().all(|c| c.as_ptr() == arc.as_ptr()));
        drop(copies);
        drop(name);
        assert_eq!(Arc::strong_count(&arc), 1);
    }

    #[test]
    fn names_from_words_are_the_names_of_their_text() {
        for text in [
            "",
            "a",
            "pass_0",
            "calc_10",
            "fifteen_bytes_x",
            "é",
            "ab\u{e9}cd",
        ] {
            let mut first = [0u8; 16];
            first[..text.len()].copy_from_slice(text.as_bytes());
            let words = [
                u64::from_le_bytes(first[..8].try_into().unwrap()),
                u64::from_le_bytes(first[8..].try_into().unwrap()),
            ];
            // SAFETY: the words hold `text`, UTF-8, and zeros after it.
            let name = unsafe { Name::from_words(words, text.len()) };
            assert_eq!(name, Name::new(text));
            assert_eq!(&*name, text);
        }
    }

    #[test]
    fn a_name_goes_to_another_thread_and_back() {
        let long = Name::from("a name of more than fifteen bytes");
        let short = Name::from("short");
        let (a, b) = std::thread::spawn({
            let (long, short) = (long.clone(), short.clone());
            move || (long, short)
        })
        .join()
        .unwrap();
        assert_eq!((a, b), (long, short));
    }

    proptest! {
        #[test]
        fn a_name_behaves_as_its_text(a in "\\PC{0,24}", b in "\\PC{0,24}") {
            let (x, y) = (Name::from(a.as_str()), Name::from(b.as_str()));
            prop_assert_eq!(&*x, a.as_str());
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x.clone(), x.clone());
            let hash = |v: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                v(&mut h);
                h.finish()
            };
            prop_assert_eq!(hash(&|h| x.hash(h)), hash(&|h| a.as_str().hash(h)));
            prop_assert_eq!(String::from(x.clone()), a.clone());
            prop_assert_eq!(&*Arc::<str>::from(x), a.as_str());
        }

        #[test]
        fn inline_without_agrees_with_a_search_of_the_text(a in "[a-z._\\-\u{e9}]{0,20}") {
            let name = Name::from(a.as_str());
            for byte in [b'.', b'-', b'a'] {
                prop_assert_eq!(
                    name.inline_without(byte),
                    name.is_inline() && !a.as_bytes().contains(&byte),
                    "{:?} {}", a, byte as char
                );
            }
        }
    }
}
