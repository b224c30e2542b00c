//! With `--tag`, what is written before each value of an output: `{"node":"<name>","value":`
//! (the tagged map's keys in order), made once per output when the writer is made.
//!
//! Copying it with `extend_from_slice` called `memcpy` for ~25 bytes per line: a third of what
//! `--tag` added to an int line (callgrind). A prefix of at most [`COPY`] bytes is kept padded to
//! that length, copied as a fixed [`COPY`] bytes (a few moves) and cut to its length.

use pipeline::value::write_json;
use pipeline::Value;

/// The bytes copied at once; a longer prefix (a long node name) is copied as it is.
const COPY: usize = 32;

/// One output's prefix.
pub(super) struct TagPrefix {
    /// The prefix, followed by zeros up to [`COPY`] bytes when it is shorter.
    padded: Vec<u8>,
    /// The prefix's length.
    len: usize,
}

impl TagPrefix {
    /// The prefix of the output named `name`.
    pub(super) fn new(name: &pipeline::graph::Name) -> TagPrefix {
        let mut padded = br#"{"node":"#.to_vec();
        // A string is always written.
        let _ = write_json(&Value::from(name.as_str()), &mut padded);
        padded.extend_from_slice(br#","value":"#);
        let len = padded.len();
        padded.resize(len.max(COPY), 0);
        TagPrefix { padded, len }
    }

    /// Appends the prefix to `out`.
    #[inline(always)]
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        if self.len <= COPY {
            let start = out.len();
            out.extend_from_slice(&self.padded[..COPY]);
            out.truncate(start + self.len);
        } else {
            out.extend_from_slice(&self.padded[..self.len]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_prefix_alone_whatever_its_length() {
        for name in [
            "p",
            "pass_2",
            "a_name_just_past_the_copy",
            &"n".repeat(40),
            "quote\"d",
        ] {
            let prefix = TagPrefix::new(&name.into());
            let mut out = b"before ".to_vec();
            prefix.write(&mut out);
            let expected = format!(
                "before {{\"node\":{},\"value\":",
                serde_json::to_string(name).unwrap()
            );
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
