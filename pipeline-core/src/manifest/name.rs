//! Ids, node types and connection ends are read straight into [`Name`]s: kept inline when short, as
//! nearly all are, else one allocation each, which the graph, the description and the running
//! pipeline then share instead of copying.
//!
//! While [`parse`](super::parse) reads a manifest, equal long names share one allocation too:
//! connections name their ends by node ids, and nodes repeat their types.

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

/// `text` as a [`Name`]: kept inline if short; else the one already read if names are shared and it
/// was, else a new one.
fn name(text: &str) -> Name {
    if text.len() <= Name::INLINE {
        return Name::new(text);
    }
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

    #[test]
    fn equal_long_names_are_shared_only_while_sharing_and_short_ones_kept_inline() {
        let long = "a_node_id_of_more_than_15_bytes";
        let (a, b, short) = {
            let _sharing = SharedNames::begin();
            (name(long), name(long), name("calc"))
        };
        assert!(!a.is_inline() && a.as_ptr() == b.as_ptr());
        assert!(short.is_inline() && name(&long[..Name::INLINE]).is_inline());
        assert_ne!(name(long).as_ptr(), name(long).as_ptr());
    }
}
