//! Ids, node types and connection ends are read straight into shared [`Name`]s: at most one
//! allocation each, after which the graph, the description and the running pipeline share them
//! instead of copying (serde's own `Arc<str>` goes through a `Box<str>` and copies it once more).
//!
//! While [`parse`](super::parse) reads a manifest, equal names share one allocation too:
//! connections name their ends by node ids, and nodes repeat their types, so the benchmark's
//! 10-node manifest reads 38 names but allocates 12.

use crate::graph::fast_hash::FastHash;
use crate::graph::Name;
use serde::de::{Deserializer, Error, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

thread_local! {
    /// The names read so far by the parse running on this thread, if one is.
    static SEEN: RefCell<Option<HashSet<Name, FastHash>>> = const { RefCell::new(None) };
}

/// While alive, names read on this thread with equal text are one shared [`Name`].
pub(crate) struct SharedNames(());

impl SharedNames {
    /// Starts sharing on this thread (a manifest has a few dozen distinct names at most).
    pub(crate) fn begin() -> SharedNames {
        let seen = HashSet::with_capacity_and_hasher(16, FastHash::default());
        SEEN.with(|slot| *slot.borrow_mut() = Some(seen));
        SharedNames(())
    }
}

impl Drop for SharedNames {
    fn drop(&mut self) {
        SEEN.with(|slot| slot.borrow_mut().take());
    }
}

/// `text` as a [`Name`]: the one already read if names are shared and it was, else a new one.
fn name(text: &str) -> Name {
    SEEN.with(|slot| match slot.borrow_mut().as_mut() {
        Some(seen) => match seen.get(text) {
            Some(known) => Name::clone(known),
            None => {
                let name = Name::from(text);
                seen.insert(Name::clone(&name));
                name
            }
        },
        None => Name::from(text),
    })
}

/// Deserializes a string into a [`Name`] with at most one allocation.
///
/// ```
/// use pipeline_core::manifest::Connection;
/// let c: Connection = serde_json::from_str(r#"{"from": "a", "to": "output"}"#).unwrap();
/// assert_eq!((&*c.from, &*c.to), ("a", "output"));
/// ```
pub(crate) fn deserialize_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Name, D::Error> {
    struct NameVisitor;
    impl Visitor<'_> for NameVisitor {
        type Value = Name;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: Error>(self, text: &str) -> Result<Name, E> {
            Ok(name(text))
        }
    }
    deserializer.deserialize_str(NameVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn equal_names_are_shared_only_while_sharing() {
        let (a, b) = {
            let _sharing = SharedNames::begin();
            (name("calc"), name("calc"))
        };
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(Arc::strong_count(&a), 2, "the table let go of it");
        assert!(!Arc::ptr_eq(&name("calc"), &name("calc")));
    }
}
