//! Where each key and value of a YAML document sits, by path.
//!
//! serde gives positions only for its own errors. `resolve` finds semantic errors
//! (a dangling reference, a bad CIDR) and needs the position of the value it is looking
//! at, so the document is walked once more with a marked event parser and every
//! key and value is recorded under its path, e.g. `nodes.net1.interfaces.veth1.peer`
//! or `steps.2.ping.to`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Default)]
pub(crate) struct SpanIndex {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    /// Keys written twice in one mapping (serde keeps the last silently), with the
    /// position of the repeat.
    pub duplicates: Vec<(String, Pos)>,
}

impl SpanIndex {
    /// Builds the index; a document that does not parse gives an empty index
    /// (serde reports the syntax error itself).
    pub(crate) fn build(src: &str) -> SpanIndex {
        let mut walker = Walker::default();
        let mut parser = Parser::new_from_str(src);
        let _ = parser.load(&mut walker, false);
        walker.index
    }

    /// The position of the value at `path`, falling back to its nearest recorded ancestor.
    pub(crate) fn value(&self, path: &str) -> Pos {
        self.lookup(&self.values, path)
    }

    /// The position of the key that names `path` (for map entries), else of its value.
    pub(crate) fn key(&self, path: &str) -> Pos {
        self.keys
            .get(path)
            .copied()
            .unwrap_or_else(|| self.value(path))
    }

    fn lookup(&self, map: &HashMap<String, Pos>, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = map.get(p) {
                return *pos;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return map.get("").copied().unwrap_or(Pos { line: 1, col: 1 }),
            }
        }
    }
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<(String, Pos)>,
        seen: std::collections::HashSet<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    index: SpanIndex,
}

fn join(parent: &str, seg: &str) -> String {
    if parent.is_empty() {
        seg.to_string()
    } else {
        format!("{parent}.{seg}")
    }
}

impl Walker {
    /// The path of the node that starts now, and for a map value also its key's position.
    fn next_path(&mut self) -> Option<(String, Option<Pos>)> {
        match self.stack.last_mut() {
            None => Some((String::new(), None)),
            Some(Frame::Seq { path, next }) => {
                let p = join(path, &next.to_string());
                *next += 1;
                Some((p, None))
            }
            // Without a pending key, this node is a key itself.
            Some(Frame::Map {
                path, pending_key, ..
            }) => pending_key
                .take()
                .map(|(k, kpos)| (join(path, &k), Some(kpos))),
        }
    }

    fn record(&mut self, path: &str, pos: Pos, key: Option<Pos>) {
        self.index.values.entry(path.to_string()).or_insert(pos);
        if let Some(k) = key {
            self.index.keys.entry(path.to_string()).or_insert(k);
        }
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos {
            line: mark.line(),
            col: mark.col() + 1,
        };
        match ev {
            Event::Scalar(text, ..) => match self.next_path() {
                Some((path, key)) => self.record(&path, pos, key),
                None => {
                    if let Some(Frame::Map {
                        path,
                        pending_key,
                        seen,
                    }) = self.stack.last_mut()
                    {
                        if !seen.insert(text.clone()) {
                            self.index.duplicates.push((join(path, &text), pos));
                        }
                        // A block mapping's start event is marked after its first key;
                        // the mapping starts where that key does.
                        if let Some(start) = self.index.values.get_mut(path.as_str()) {
                            if (pos.line, pos.col) < (start.line, start.col) {
                                *start = pos;
                            }
                        }
                        *pending_key = Some((text, pos));
                    }
                }
            },
            Event::Alias(_) => {
                if let Some((path, key)) = self.next_path() {
                    self.record(&path, pos, key);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // A complex (non-scalar) key is not part of the format; give it a dummy path.
                let (path, key) = self.next_path().unwrap_or(("?".into(), None));
                self.record(&path, pos, key);
                self.stack.push(if is_map {
                    Frame::Map {
                        path,
                        pending_key: None,
                        seen: Default::default(),
                    }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_block_and_flow_positions() {
        let src = "nodes:\n  a:\n    interfaces:\n      v1: { peer: b:v2, master: br }\nsteps:\n  - ping: { from: a, to: 10.0.0.1 }\n";
        let idx = SpanIndex::build(src);
        assert_eq!(idx.key("nodes.a"), Pos { line: 2, col: 3 });
        assert_eq!(
            idx.value("nodes.a.interfaces.v1.peer"),
            Pos { line: 4, col: 19 }
        );
        assert_eq!(
            idx.value("nodes.a.interfaces.v1.master"),
            Pos { line: 4, col: 33 }
        );
        assert_eq!(idx.value("steps.0.ping.to"), Pos { line: 6, col: 26 });
        // An unknown path falls back to its nearest ancestor.
        assert_eq!(idx.value("steps.0.ping.nothing"), idx.value("steps.0.ping"));
    }
}
