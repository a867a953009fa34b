//! Graphviz DOT and Mermaid export.
//!
//! Both formats name nodes `n<index>` and show the user id as the label, escaped for the format,
//! so that any id (quotes, spaces, backslashes, unicode, keywords such as `end` or `graph`) is safe.
//! Edges point from a dependency to its dependent, in the order of execution.

use std::fmt::{self, Display, Write as _};

use crate::Dag;

impl<K: Display> Dag<K> {
    /// The graph in Graphviz DOT. Each node is `n<index>` with the id as its label; nodes whose
    /// weight is not 1 show it as a second label line.
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let dag = DagBuilder::new().node("say \"hi\"", []).node("b", ["say \"hi\""]).build()?;
    /// assert_eq!(
    ///     dag.to_dot(),
    ///     "digraph {\n    n0 [label=\"say \\\"hi\\\"\"];\n    n1 [label=\"b\"];\n    n0 -> n1;\n}\n"
    /// );
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph {\n");
        for node in self.nodes() {
            let _ = write!(out, "    n{} [label=\"", node.as_u32());
            let _ = write!(DotEscaper(&mut out), "{}", self.id(node));
            let weight = self.weight(node);
            if weight != 1 {
                let _ = write!(out, "\\nweight {weight}");
            }
            out.push_str("\"];\n");
        }
        self.write_edges(&mut out, "->", ";");
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart (top-down). Each node is `n<index>` with the id as a
    /// quoted label, special characters written as Mermaid entity codes (`#quot;`, `#35;`, ...).
    ///
    /// ```
    /// use baton_dag::DagBuilder;
    ///
    /// let dag = DagBuilder::new().node("a \"b\"", []).node("end", ["a \"b\""]).build()?;
    /// assert_eq!(
    ///     dag.to_mermaid(),
    ///     "flowchart TD\n    n0[\"a #quot;b#quot;\"]\n    n1[\"end\"]\n    n0 --> n1\n"
    /// );
    /// # Ok::<(), baton_dag::ValidationErrors<&str>>(())
    /// ```
    #[must_use]
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for node in self.nodes() {
            let _ = write!(out, "    n{}[\"", node.as_u32());
            let _ = write!(MermaidEscaper(&mut out), "{}", self.id(node));
            out.push_str("\"]\n");
        }
        self.write_edges(&mut out, "-->", "");
        out
    }

    fn write_edges(&self, out: &mut String, arrow: &str, end: &str) {
        for node in self.nodes() {
            for next in self.dependents(node) {
                let _ = writeln!(
                    out,
                    "    n{} {arrow} n{}{end}",
                    node.as_u32(),
                    next.as_u32()
                );
            }
        }
    }
}

/// Escapes text for a DOT double-quoted string used as a label: `"` and `\` are backslashed, line
/// breaks become `\n` (a centred line break in a label).
struct DotEscaper<'a>(&'a mut String);

impl fmt::Write for DotEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => {}
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

/// Escapes text for a Mermaid quoted label: characters Mermaid or its HTML/markdown rendering
/// would interpret, and control characters, become entity codes (`#quot;` or `#<decimal>;`).
struct MermaidEscaper<'a>(&'a mut String);

impl fmt::Write for MermaidEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("#quot;"),
                '#' | '&' | '<' | '>' | '\\' | '`' | '[' | ']' | '|' | '{' | '}' => {
                    write!(self.0, "#{};", u32::from(c))?;
                }
                c if c.is_control() => write!(self.0, "#{};", u32::from(c))?,
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::DagBuilder;

    const AWKWARD: [&str; 6] = [
        "plain",
        "with space",
        "quote \" and backslash \\",
        "naïve → ünïcødé 🚀",
        "line\nbreak",
        "<b>#1 & [x] {y} | `z`</b>",
    ];

    fn awkward_dag() -> crate::Dag<&'static str> {
        let mut builder = DagBuilder::new();
        builder.add(AWKWARD[0], [], 1);
        for pair in AWKWARD.windows(2) {
            builder.add(pair[1], [pair[0]], 1);
        }
        builder.build().expect("a chain is valid")
    }

    #[test]
    fn dot_escapes_quotes_backslashes_and_newlines() {
        let dot = awkward_dag().to_dot();
        let expected = r#"digraph {
    n0 [label="plain"];
    n1 [label="with space"];
    n2 [label="quote \" and backslash \\"];
    n3 [label="naïve → ünïcødé 🚀"];
    n4 [label="line\nbreak"];
    n5 [label="<b>#1 & [x] {y} | `z`</b>"];
    n0 -> n1;
    n1 -> n2;
    n2 -> n3;
    n3 -> n4;
    n4 -> n5;
}
"#;
        assert_eq!(dot, expected);
    }

    #[test]
    fn dot_labels_show_weights_other_than_one() {
        let dag = DagBuilder::new()
            .weighted_node("a", 7, [])
            .build()
            .expect("valid");
        assert_eq!(
            dag.to_dot(),
            "digraph {\n    n0 [label=\"a\\nweight 7\"];\n}\n"
        );
    }

    #[test]
    fn mermaid_uses_safe_node_ids_and_entity_codes() {
        let mermaid = awkward_dag().to_mermaid();
        let expected = "flowchart TD
    n0[\"plain\"]
    n1[\"with space\"]
    n2[\"quote #quot; and backslash #92;\"]
    n3[\"naïve → ünïcødé 🚀\"]
    n4[\"line#10;break\"]
    n5[\"#60;b#62;#35;1 #38; #91;x#93; #123;y#125; #124; #96;z#96;#60;/b#62;\"]
    n0 --> n1
    n1 --> n2
    n2 --> n3
    n3 --> n4
    n4 --> n5
";
        assert_eq!(mermaid, expected);
        // No raw quote can end a label early.
        for line in mermaid.lines().skip(1).take(AWKWARD.len()) {
            assert_eq!(line.matches('"').count(), 2, "{line}");
        }
    }

    #[test]
    fn keyword_ids_are_only_labels() {
        let dag = DagBuilder::new()
            .node("end", [])
            .node("graph", ["end"])
            .node("subgraph", ["graph"])
            .build()
            .expect("valid");
        let mermaid = dag.to_mermaid();
        assert!(mermaid.contains("n0[\"end\"]"));
        assert!(mermaid.contains("n1 --> n2"));
        let dot = dag.to_dot();
        assert!(dot.contains("n1 [label=\"graph\"];"));
    }
}
