//! A picture of a scenario's topology: Mermaid (GitHub draws it in Markdown) or DOT
//! (Graphviz). Nodes are boxes holding their interfaces; veth pairs, bridge ports,
//! macvlan parents and vxlan underlays are the edges; addresses are labels. A pure
//! function of the scenario: the same file always gives the same text.

use std::fmt::Write;

use crate::scenario::{IfKind, IfRef, Interface, Scenario, Vxlan};

/// Which picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

/// An edge between two interfaces, drawn once.
struct Edge {
    from: IfRef,
    to: IfRef,
    label: String,
    /// A veth pair is a cable; the others are relations inside a node or over IP.
    solid: bool,
}

fn edges(sc: &Scenario) -> Vec<Edge> {
    let mut out = Vec::new();
    for n in &sc.nodes {
        for i in &n.interfaces {
            let me = IfRef {
                node: n.name.clone(),
                ifname: i.name.clone(),
            };
            match &i.kind {
                IfKind::Veth {
                    peer,
                    creates: true,
                } => out.push(Edge {
                    from: me.clone(),
                    to: peer.clone(),
                    label: "veth".into(),
                    solid: true,
                }),
                IfKind::Macvlan { parent, mode } => out.push(Edge {
                    from: me.clone(),
                    to: parent.clone(),
                    label: format!("macvlan {}", format!("{mode:?}").to_lowercase()),
                    solid: false,
                }),
                IfKind::Vxlan(Vxlan {
                    vni, dev: Some(d), ..
                }) => out.push(Edge {
                    from: me.clone(),
                    to: IfRef {
                        node: n.name.clone(),
                        ifname: d.clone(),
                    },
                    label: format!("vxlan {vni} over"),
                    solid: false,
                }),
                IfKind::Vlan { parent, id } => out.push(Edge {
                    from: me.clone(),
                    to: IfRef {
                        node: n.name.clone(),
                        ifname: parent.clone(),
                    },
                    label: format!("vlan {id} on"),
                    solid: false,
                }),
                _ => {}
            }
            if let Some(m) = &i.master {
                out.push(Edge {
                    from: me,
                    to: IfRef {
                        node: n.name.clone(),
                        ifname: m.clone(),
                    },
                    label: "port".into(),
                    solid: false,
                });
            }
        }
    }
    out
}

/// The lines of an interface's label: name and kind, then addresses.
fn label_lines(i: &Interface) -> Vec<String> {
    let mut lines = vec![match &i.kind {
        IfKind::Veth { .. } => i.name.to_string(),
        IfKind::Vxlan(Vxlan { vni, remote, .. }) => match remote {
            Some(r) => format!("{} (vxlan {vni} to {r})", i.name),
            None => format!("{} (vxlan {vni})", i.name),
        },
        k => format!("{} ({})", i.name, k.name()),
    }];
    lines.extend(i.addresses.iter().map(|c| c.to_string()));
    if !i.up {
        lines.push("down".into());
    }
    lines
}

/// A Mermaid id from position, since names may hold characters Mermaid ids cannot.
fn ids(sc: &Scenario) -> impl Fn(&IfRef) -> String + '_ {
    move |r: &IfRef| {
        let ni = sc.nodes.iter().position(|n| n.name == r.node).unwrap_or(0);
        let ii = sc.nodes[ni]
            .interfaces
            .iter()
            .position(|i| i.name == r.ifname)
            .unwrap_or(0);
        format!("n{ni}i{ii}")
    }
}

/// Mermaid labels are quoted; a quote inside is written `#quot;`.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

fn mermaid(sc: &Scenario) -> String {
    let id = ids(sc);
    let mut out = String::from("flowchart LR\n");
    for (ni, n) in sc.nodes.iter().enumerate() {
        let _ = writeln!(out, "  subgraph n{ni}[\"{}\"]", mermaid_text(&n.name));
        for i in &n.interfaces {
            let r = IfRef {
                node: n.name.clone(),
                ifname: i.name.clone(),
            };
            let _ = writeln!(
                out,
                "    {}[\"{}\"]",
                id(&r),
                mermaid_text(&label_lines(i).join("<br/>"))
            );
        }
        out.push_str("  end\n");
    }
    for e in edges(sc) {
        let arrow = if e.solid { "---" } else { "-.-" };
        let _ = writeln!(
            out,
            "  {} {arrow}|{}| {}",
            id(&e.from),
            mermaid_text(&e.label),
            id(&e.to)
        );
    }
    out
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(sc: &Scenario) -> String {
    let mut out = format!(
        "graph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        dot_text(&sc.name)
    );
    for (ni, n) in sc.nodes.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{ni} {{\n    label=\"{}\";",
            dot_text(&n.name)
        );
        for i in &n.interfaces {
            let _ = writeln!(
                out,
                "    \"{}:{}\" [label=\"{}\"];",
                dot_text(&n.name),
                dot_text(&i.name),
                label_lines(i)
                    .iter()
                    .map(|l| dot_text(l))
                    .collect::<Vec<_>>()
                    .join("\\n")
            );
        }
        out.push_str("  }\n");
    }
    for e in edges(sc) {
        let _ = writeln!(
            out,
            "  \"{}\" -- \"{}\" [label=\"{}\"{}];",
            dot_text(&e.from.to_string()),
            dot_text(&e.to.to_string()),
            dot_text(&e.label),
            if e.solid { "" } else { ", style=dashed" }
        );
    }
    out.push_str("}\n");
    out
}

/// The picture of `sc` in `format`.
pub fn render(sc: &Scenario, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(sc),
        Format::Dot => dot(sc),
    }
}
