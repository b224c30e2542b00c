//! [`Text`]: a manifest's free text (its name and description), which the parser's plain reader
//! leaves where it stands in the manifest's shared text instead of copying it out: a 3-node
//! manifest's two metadata strings were two of its parse's ~14 allocations (callgrind).

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// A string: owned, or a part of a shared text (what the manifest reader makes). It reads as a
/// `&str` ([`Deref`]) and compares, prints and serialises as one.
///
/// ```
/// use pipeline_core::manifest::Text;
/// let name = Text::from("simple");
/// assert_eq!(name, "simple");
/// assert_eq!(format!("{name} v2"), "simple v2");
/// assert_eq!(name.len(), 6);
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Owned(String),
    /// `range` of the shared text (whole characters).
    Shared(Arc<str>, Range<usize>),
}

impl Text {
    /// `range` of `shared`, without copying; `None` unless `range` is whole characters of it.
    pub(crate) fn shared(shared: &Arc<str>, range: Range<usize>) -> Option<Text> {
        shared.get(range.clone())?;
        Some(Text(Repr::Shared(Arc::clone(shared), range)))
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(text) => text,
            // Checked to be whole characters when made.
            Repr::Shared(shared, range) => &shared[range.clone()],
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(Repr::Owned(text))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text(Repr::Owned(text.to_string()))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        match text.0 {
            Repr::Owned(text) => text,
            Repr::Shared(..) => text.as_str().to_string(),
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Repr::Owned(String::new()))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        String::deserialize(deserializer).map(Text::from)
    }
}

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        String::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        String::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_text_reads_compares_and_serialises_as_the_owned_one() {
        let shared: Arc<str> = Arc::from(r#"{"name": "héllo"}"#);
        let part = Text::shared(&shared, 10..16).expect("whole characters");
        let owned = Text::from("héllo");
        assert_eq!(part, owned);
        assert_eq!(part, "héllo");
        assert_eq!(&*part, "héllo");
        assert_eq!(format!("{part}|{part:?}"), "héllo|\"héllo\"");
        assert_eq!(
            serde_json::to_string(&part).unwrap(),
            serde_json::to_string(&owned).unwrap()
        );
        assert_eq!(String::from(part.clone()), "héllo");
        // Inside a character: refused.
        assert!(Text::shared(&shared, 12..16).is_none());
        let read: Text = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(read, "x");
    }
}
