//! A running pipeline's picture of itself: nodes, types, edges, stages; rendered as Mermaid or DOT.
//!
//! Both renderings give every vertex a generated id (`input`, `n0`, `out0`, ...) and put names
//! only in quoted labels, escaped for the format: output names and `pipeline!` ids may hold
//! quotes, newlines, backslashes or markup, and must not be able to end the label early. The input
//! and each output are terminals of their own, drawn apart from nodes, even when an output shares
//! its name with the node it comes from.

use super::model::{EdgeKind, Endpoint, Name, OUTPUT};
use std::collections::HashMap;
use std::fmt::Write;

/// A node in a [`Description`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node id.
    pub id: Name,
    /// The node's type (`Calculator`, `python`, ...).
    pub type_name: Name,
    /// The stage (thread) it runs on; 0 is the caller's thread.
    pub stage: usize,
}

/// An edge in a [`Description`]: from the input or a node (by one of its output ports, for a
/// node with several), to a node or an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeInfo {
    /// Source.
    pub from: Endpoint,
    /// The source's output port the edge leaves by (`even` of `route.even`); `None` for a node
    /// with one output and for the input.
    pub port: Option<Name>,
    /// Target.
    pub to: Endpoint,
    /// Fused or stage boundary.
    pub kind: EdgeKind,
}

/// What a pipeline is made of: what `pipeline graph` prints and generated pipelines return from
/// `describe()`.
///
/// ```
/// use pipeline_core::graph::{Description, EdgeInfo, EdgeKind, Endpoint, NodeInfo};
/// let d = Description {
///     nodes: vec![NodeInfo { id: "add".into(), type_name: "Calculator".into(), stage: 0 }],
///     edges: vec![
///         EdgeInfo { from: Endpoint::Input, port: None, to: Endpoint::node("add"), kind: EdgeKind::Fused },
///         EdgeInfo { from: Endpoint::node("add"), port: None, to: Endpoint::output("add"), kind: EdgeKind::Fused },
///     ],
///     outputs: vec!["add".into()],
/// };
/// let mermaid = d.to_mermaid();
/// assert!(mermaid.contains(r#"n0["add: Calculator"]"#), "{mermaid}");
/// assert!(mermaid.contains("input --> n0") && mermaid.contains("n0 --> out0"), "{mermaid}");
/// let dot = d.to_dot();
/// assert!(dot.contains(r#"out0 [shape=oval, label="output.add"]"#), "{dot}");
/// assert!(dot.contains("n0 -> out0;"), "{dot}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// Nodes in declaration order.
    pub nodes: Vec<NodeInfo>,
    /// Edges in declaration order.
    pub edges: Vec<EdgeInfo>,
    /// Output names.
    pub outputs: Vec<Name>,
}

impl EdgeInfo {
    /// The source as written: `route.even` for a port, else the endpoint's name.
    ///
    /// ```
    /// use pipeline_core::graph::{EdgeInfo, EdgeKind, Endpoint};
    /// let edge = EdgeInfo {
    ///     from: Endpoint::node("route"),
    ///     port: Some("even".into()),
    ///     to: Endpoint::output("evens"),
    ///     kind: EdgeKind::Fused,
    /// };
    /// assert_eq!(edge.source_text(), "route.even");
    /// ```
    pub fn source_text(&self) -> String {
        match &self.port {
            Some(port) => format!("{}.{port}", self.from),
            None => self.from.to_string(),
        }
    }
}

/// Generated vertex ids: names never appear outside a quoted, escaped label.
struct Ids<'a> {
    nodes: HashMap<&'a str, usize>,
    outputs: HashMap<&'a str, usize>,
    /// Edge ends the description does not list (hand-built descriptions), drawn as plain boxes.
    unlisted: Vec<(String, &'a Endpoint)>,
}

impl<'a> Ids<'a> {
    fn new(d: &'a Description) -> Self {
        let mut ids = Ids {
            nodes: d
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (&*n.id, i))
                .collect(),
            outputs: d
                .outputs
                .iter()
                .enumerate()
                .map(|(i, o)| (&**o, i))
                .collect(),
            unlisted: Vec::new(),
        };
        for e in &d.edges {
            for end in [&e.from, &e.to] {
                if ids.find(end).is_none() && !ids.unlisted.iter().any(|(_, u)| *u == end) {
                    let id = format!("x{}", ids.unlisted.len());
                    ids.unlisted.push((id, end));
                }
            }
        }
        ids
    }

    fn find(&self, end: &Endpoint) -> Option<String> {
        match end {
            Endpoint::Input => Some("input".to_string()),
            Endpoint::Node(id) => self.nodes.get(&**id).map(|i| format!("n{i}")),
            Endpoint::Output(name) => self.outputs.get(&**name).map(|i| format!("out{i}")),
        }
    }

    fn of(&self, end: &Endpoint) -> String {
        self.find(end).unwrap_or_else(|| {
            let (id, _) = self
                .unlisted
                .iter()
                .find(|(_, u)| *u == end)
                .expect("every edge end is listed or unlisted");
            id.clone()
        })
    }
}

/// How an output is written in a manifest: `output`, or `output.<name>`.
fn output_label(name: &str) -> String {
    if name == OUTPUT {
        OUTPUT.to_string()
    } else {
        format!("{OUTPUT}.{name}")
    }
}

fn stages(d: &Description) -> impl Iterator<Item = (usize, Vec<(usize, &NodeInfo)>)> {
    (0..d.stage_count()).filter_map(|stage| {
        let members: Vec<_> = d
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.stage == stage)
            .collect();
        (!members.is_empty()).then_some((stage, members))
    })
}

impl Description {
    /// How many threads the pipeline uses: stage 0 is the caller's own.
    pub fn stage_count(&self) -> usize {
        self.nodes.iter().map(|n| n.stage + 1).max().unwrap_or(1)
    }

    /// A Mermaid flowchart, one subgraph per stage; `=>` edges are thick. The input and the
    /// outputs are stadium-shaped terminals.
    pub fn to_mermaid(&self) -> String {
        let ids = Ids::new(self);
        let mut s = String::from("flowchart LR\n    input([\"input\"])\n");
        for (stage, members) in stages(self) {
            let _ = writeln!(s, "    subgraph stage_{stage} [\"stage {stage}\"]");
            for (i, n) in members {
                let label = mermaid_text(&format!("{}: {}", n.id, n.type_name));
                let _ = writeln!(s, "        n{i}[\"{label}\"]");
            }
            s.push_str("    end\n");
        }
        for (i, o) in self.outputs.iter().enumerate() {
            let _ = writeln!(s, "    out{i}([\"{}\"])", mermaid_text(&output_label(o)));
        }
        for (id, end) in &ids.unlisted {
            let _ = writeln!(s, "    {id}[\"{}\"]", mermaid_text(&end.to_string()));
        }
        for e in &self.edges {
            let arrow = match e.kind {
                EdgeKind::Fused => "-->",
                EdgeKind::Stage => "==>",
            };
            // An edge leaving by a port is labelled with the port.
            let label = e.port.as_ref().map_or(String::new(), |port| {
                format!("|\"{}\"|", mermaid_text(port))
            });
            let _ = writeln!(
                s,
                "    {} {arrow}{label} {}",
                ids.of(&e.from),
                ids.of(&e.to)
            );
        }
        s
    }

    /// A Graphviz digraph, one cluster per stage; `=>` edges are bold. The input and the outputs
    /// are ovals, nodes boxes.
    pub fn to_dot(&self) -> String {
        let ids = Ids::new(self);
        let mut s = String::from(
            "digraph pipeline {\n    rankdir=LR;\n    input [shape=oval, label=\"input\"];\n",
        );
        for (stage, members) in stages(self) {
            let _ = writeln!(
                s,
                "    subgraph cluster_{stage} {{\n        label=\"stage {stage}\";"
            );
            for (i, n) in members {
                let _ = writeln!(
                    s,
                    "        n{i} [shape=box, label=\"{}\\n{}\"];",
                    dot_text(&n.id),
                    dot_text(&n.type_name)
                );
            }
            s.push_str("    }\n");
        }
        for (i, o) in self.outputs.iter().enumerate() {
            let _ = writeln!(
                s,
                "    out{i} [shape=oval, label=\"{}\"];",
                dot_text(&output_label(o))
            );
        }
        for (id, end) in &ids.unlisted {
            let _ = writeln!(
                s,
                "    {id} [shape=box, label=\"{}\"];",
                dot_text(&end.to_string())
            );
        }
        for e in &self.edges {
            let port = e.port.as_ref().map(|port| dot_text(port));
            let style = match (e.kind, port) {
                (EdgeKind::Fused, None) => String::new(),
                (EdgeKind::Fused, Some(port)) => format!(" [label=\"{port}\"]"),
                (EdgeKind::Stage, None) => " [style=bold, label=\"=>\"]".to_string(),
                (EdgeKind::Stage, Some(port)) => format!(" [style=bold, label=\"{port} =>\"]"),
            };
            let _ = writeln!(s, "    {} -> {}{style};", ids.of(&e.from), ids.of(&e.to));
        }
        s.push_str("}\n");
        s
    }
}

/// Text for inside a Mermaid `"..."` label: letters, digits, spaces and plain punctuation stay;
/// everything else (quotes, `#`, `;`, markup, backticks, newlines, ...) becomes an entity code
/// (`#34;`), which Mermaid shows as the character and never reads as syntax.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() && !c.is_control() || matches!(c, ' ' | '_' | '-' | '.' | ':' | ',')
        {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// Text for inside a DOT `"..."` label: `"` and `\` are escaped, a newline is a line break
/// (`\n`), other control characters are shown as `\u{..}` (DOT has no escape for them).
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\"b]\n}\\ -> x; <i>{|}</i> `md` #quot; é ✓\r\u{7f}";

    /// A node and an output named like an injection attempt; the output shares its node's name.
    fn hostile() -> Description {
        Description {
            nodes: vec![
                NodeInfo {
                    id: HOSTILE.into(),
                    type_name: "T\"y".into(),
                    stage: 0,
                },
                NodeInfo {
                    id: "b".into(),
                    type_name: "U".into(),
                    stage: 1,
                },
            ],
            edges: vec![
                EdgeInfo {
                    from: Endpoint::Input,
                    port: None,
                    to: Endpoint::node(HOSTILE),
                    kind: EdgeKind::Fused,
                },
                EdgeInfo {
                    from: Endpoint::node(HOSTILE),
                    port: None,
                    to: Endpoint::node("b"),
                    kind: EdgeKind::Stage,
                },
                EdgeInfo {
                    from: Endpoint::node("b"),
                    port: None,
                    to: Endpoint::output("b"),
                    kind: EdgeKind::Fused,
                },
                EdgeInfo {
                    from: Endpoint::node(HOSTILE),
                    port: None,
                    to: Endpoint::output(HOSTILE),
                    kind: EdgeKind::Fused,
                },
            ],
            outputs: vec!["b".into(), HOSTILE.into()],
        }
    }

    /// Splits DOT text into what is outside quoted strings and the strings' contents (escapes kept).
    fn dot_strings(text: &str) -> (String, Vec<String>) {
        let (mut outside, mut strings) = (String::new(), Vec::new());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                outside.push(c);
                continue;
            }
            let mut string = String::new();
            loop {
                match chars.next().expect("every string is closed") {
                    '\\' => {
                        string.push('\\');
                        string.push(chars.next().expect("an escape has a character"));
                    }
                    '"' => break,
                    '\n' => panic!("a raw newline in a string"),
                    c => string.push(c),
                }
            }
            strings.push(string);
        }
        (outside, strings)
    }

    #[test]
    fn dot_names_stay_inside_their_labels() {
        let dot = hostile().to_dot();
        let (outside, strings) = dot_strings(&dot);
        // Outside strings there are only generated ids and DOT punctuation.
        assert!(
            outside
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " \n_{}[]=;,->".contains(c)),
            "{outside}"
        );
        assert!(
            strings
                .iter()
                .any(|s| s.starts_with("a\\\"b]\\n}\\\\ -> x;")),
            "{strings:?}"
        );
        assert!(strings.contains(&"output.b".to_string()), "{strings:?}");
        assert!(
            strings.iter().any(|s| s.starts_with("output.a\\\"b")),
            "{strings:?}"
        );
        assert!(strings
            .iter()
            .all(|s| !s.contains('\r') && !s.contains('\u{7f}')));
    }

    #[test]
    fn outputs_are_terminals_of_their_own_even_when_named_after_their_node() {
        let dot = hostile().to_dot();
        assert!(dot.contains("n1 -> out0;"), "{dot}");
        assert!(dot.contains("n0 -> out1;"), "{dot}");
        assert!(dot.contains("input -> n0;"), "{dot}");
        assert!(dot.contains("n0 -> n1 [style=bold"), "{dot}");
        let mermaid = hostile().to_mermaid();
        assert!(mermaid.contains("    n1 --> out0\n"), "{mermaid}");
        assert!(mermaid.contains("    n0 ==> n1\n"), "{mermaid}");
        assert!(mermaid.contains("    out0([\"output.b\"])\n"), "{mermaid}");
        for line in mermaid.lines() {
            assert!(!line.contains("-->") || line.split(" --> ").all(|id| !id.trim().is_empty()));
        }
    }

    #[test]
    fn mermaid_labels_hold_no_syntax() {
        let mermaid = hostile().to_mermaid();
        // One statement per line, and every quote opens or closes a label.
        assert_eq!(mermaid.lines().count(), 14, "{mermaid}");
        for line in mermaid.lines() {
            assert!(line.matches('"').count() % 2 == 0, "{line}");
            for (k, part) in line.split('"').enumerate() {
                if k % 2 == 1 {
                    assert!(
                        !part.contains(['[', ']', '{', '}', '<', '>', '|', '`', '\\', '\r']),
                        "{part}"
                    );
                }
            }
        }
        assert!(
            mermaid.contains("n0[\"a#34;b#93;#10;#125;#92; -#62; x#59;"),
            "{mermaid}"
        );
        assert!(mermaid.contains(" é #10003;"), "{mermaid}");
    }

    #[test]
    fn edges_leaving_by_a_port_are_labelled_with_it() {
        let d = Description {
            nodes: vec![NodeInfo {
                id: "route".into(),
                type_name: "Partition".into(),
                stage: 0,
            }],
            edges: vec![
                EdgeInfo {
                    from: Endpoint::Input,
                    port: None,
                    to: Endpoint::node("route"),
                    kind: EdgeKind::Fused,
                },
                EdgeInfo {
                    from: Endpoint::node("route"),
                    port: Some("true".into()),
                    to: Endpoint::output("yes"),
                    kind: EdgeKind::Fused,
                },
                EdgeInfo {
                    from: Endpoint::node("route"),
                    port: Some("fa\"lse".into()),
                    to: Endpoint::output("no"),
                    kind: EdgeKind::Stage,
                },
            ],
            outputs: vec!["yes".into(), "no".into()],
        };
        let mermaid = d.to_mermaid();
        assert!(mermaid.contains("n0 -->|\"true\"| out0"), "{mermaid}");
        assert!(mermaid.contains("n0 ==>|\"fa#34;lse\"| out1"), "{mermaid}");
        let dot = d.to_dot();
        assert!(dot.contains("n0 -> out0 [label=\"true\"];"), "{dot}");
        assert!(
            dot.contains("n0 -> out1 [style=bold, label=\"fa\\\"lse =>\"];"),
            "{dot}"
        );
    }
}
