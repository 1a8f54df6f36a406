//! The explorer's own description of a random topology, and the generator that draws
//! one from a seed. Deliberately small: what the oracle models, nothing more.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// A node: a host or router with addresses, or a switch that only holds bridges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TNode {
    pub name: String,
    pub switch: bool,
    /// ip_forward (and IPv6 forwarding).
    pub forward: bool,
    /// net.ipv4.conf.all.rp_filter: 0 off, 1 strict, 2 loose.
    pub rp_filter: u8,
}

/// The flags of a bridge port that matter for reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub isolated: bool,
    pub learning: bool,
    pub flood: bool,
    pub locked: bool,
    /// A static FDB entry for the member's MAC on this port.
    pub static_entry: bool,
    pub down: bool,
}

impl Default for Port {
    fn default() -> Port {
        Port {
            isolated: false,
            learning: true,
            flood: true,
            locked: false,
            static_entry: false,
            down: false,
        }
    }
}

/// A node's interface on a segment: `s<segment>` with address `.host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node: usize,
    pub host: u8,
    pub proxy_arp: bool,
    /// Its bridge port, when the segment is a bridge.
    pub port: Port,
}

/// One L2 segment and its subnet: `10.<id>.0.0/24` and `fd00:<id>::/64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub id: u8,
    /// The switch node that holds bridge `br<id>`; None for a veth pair of two members.
    pub bridge: Option<usize>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The address `.host` on segment `seg` (an index into `segs`).
    Gateway {
        seg: usize,
        host: u8,
    },
    /// Straight out of the node's interface on segment `seg`.
    Dev {
        seg: usize,
    },
    Blackhole,
    Unreachable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TRoute {
    pub node: usize,
    pub v6: bool,
    /// The subnet of this segment (an index), or None for the default route.
    pub dst: Option<usize>,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topo {
    pub seed: u64,
    pub v6: bool,
    pub nodes: Vec<TNode>,
    pub segs: Vec<Seg>,
    pub routes: Vec<TRoute>,
    /// Interfaces set down by a step before the pings: (node, segment index).
    pub downs: Vec<(usize, usize)>,
}

/// A small deterministic draw on top of ChaCha8, whose stream is stable by design.
struct Dice(ChaCha8Rng);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.0.next_u64() % 100 < pct
    }
}

impl Topo {
    /// A random valid topology of `size` nodes (2 or more), the same for the same seed.
    pub fn generate(seed: u64, size: usize) -> Topo {
        let mut d = Dice(ChaCha8Rng::seed_from_u64(seed));
        let size = size.max(2);
        let switches = if size >= 3 { d.below(size / 3 + 1) } else { 0 };
        let hosts = size - switches;
        let mut nodes: Vec<TNode> = (0..hosts)
            .map(|i| TNode {
                name: format!("n{i}"),
                switch: false,
                forward: false,
                rp_filter: 0,
            })
            .collect();
        nodes.extend((0..switches).map(|i| TNode {
            name: format!("sw{i}"),
            switch: true,
            forward: false,
            rp_filter: 0,
        }));
        let mut t = Topo {
            seed,
            v6: d.chance(40),
            nodes,
            segs: Vec::new(),
            routes: Vec::new(),
            downs: Vec::new(),
        };
        t.draw_segments(&mut d, hosts, switches);
        t.draw_roles(&mut d);
        t.draw_routes(&mut d);
        t
    }

    /// A chain of segments so that every host is on one, plus a few extra links.
    fn draw_segments(&mut self, d: &mut Dice, hosts: usize, switches: usize) {
        let mut order: Vec<usize> = (0..hosts).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, d.below(i + 1));
        }
        let mut next_switch = hosts;
        let mut i = 0;
        // Each new segment joins one node already placed with one or more new ones.
        while i + 1 < order.len() {
            let bridge = next_switch < hosts + switches && d.chance(60);
            let extra = if bridge { 1 + d.below(3) } else { 1 };
            let mut members = vec![order[d.below(i + 1)]];
            for k in 0..extra {
                if i + 1 + k < order.len() {
                    members.push(order[i + 1 + k]);
                }
            }
            i += members.len() - 1;
            let sw = if bridge && members.len() >= 2 {
                next_switch += 1;
                Some(next_switch - 1)
            } else {
                None
            };
            self.add_segment(d, sw, members);
        }
        // A cycle or a shortcut now and then: two paths to compare.
        if hosts >= 3 && d.chance(35) {
            let a = d.below(hosts);
            let b = (a + 1 + d.below(hosts - 1)) % hosts;
            self.add_segment(d, None, vec![a, b]);
        }
    }

    fn add_segment(&mut self, d: &mut Dice, bridge: Option<usize>, nodes: Vec<usize>) {
        let id = self.segs.len() as u8 + 1;
        let members = nodes
            .into_iter()
            .enumerate()
            .map(|(k, node)| Member {
                node,
                host: k as u8 + 1,
                proxy_arp: false,
                port: if bridge.is_some() {
                    Port {
                        isolated: d.chance(15),
                        learning: !d.chance(15),
                        flood: !d.chance(15),
                        locked: d.chance(8),
                        static_entry: d.chance(50),
                        down: d.chance(6),
                    }
                } else {
                    Port::default()
                },
            })
            .collect();
        self.segs.push(Seg {
            id,
            bridge,
            members,
        });
    }

    /// Forwarding, rp_filter, proxy ARP and link downs.
    fn draw_roles(&mut self, d: &mut Dice) {
        for n in 0..self.nodes.len() {
            if self.nodes[n].switch {
                continue;
            }
            let legs = self.segments_of(n).len();
            self.nodes[n].forward = if legs >= 2 {
                d.chance(80)
            } else {
                d.chance(10)
            };
            if d.chance(25) {
                self.nodes[n].rp_filter = 1 + d.below(2) as u8;
            }
        }
        for s in 0..self.segs.len() {
            for m in 0..self.segs[s].members.len() {
                let node = self.segs[s].members[m].node;
                if self.nodes[node].forward && d.chance(15) {
                    self.segs[s].members[m].proxy_arp = true;
                }
                if d.chance(5) && self.downs.len() < 2 {
                    self.downs.push((node, s));
                }
            }
        }
    }

    /// Routes to segments a node is not on: a default route, specific ones, and now and
    /// then a blackhole or unreachable one.
    fn draw_routes(&mut self, d: &mut Dice) {
        let families: Vec<bool> = if self.v6 {
            vec![false, true]
        } else {
            vec![false]
        };
        for n in 0..self.nodes.len() {
            if self.nodes[n].switch {
                continue;
            }
            let mine = self.segments_of(n);
            for &v6 in &families {
                if d.chance(60) {
                    if let Some(via) = self.gateway(d, n, &mine) {
                        self.routes.push(TRoute {
                            node: n,
                            v6,
                            dst: None,
                            via,
                        });
                    }
                }
                let others: Vec<usize> =
                    (0..self.segs.len()).filter(|s| !mine.contains(s)).collect();
                for _ in 0..d.below(3) {
                    if others.is_empty() {
                        break;
                    }
                    let dst = others[d.below(others.len())];
                    if self
                        .routes
                        .iter()
                        .any(|r| r.node == n && r.v6 == v6 && r.dst == Some(dst))
                    {
                        continue;
                    }
                    let via = match d.below(10) {
                        0 => Some(Via::Blackhole),
                        1 => Some(Via::Unreachable),
                        2 | 3 => Some(Via::Dev {
                            seg: mine[d.below(mine.len())],
                        }),
                        _ => self.gateway(d, n, &mine),
                    };
                    if let Some(via) = via {
                        self.routes.push(TRoute {
                            node: n,
                            v6,
                            dst: Some(dst),
                            via,
                        });
                    }
                }
            }
        }
    }

    /// Another member of one of the node's segments, as a gateway.
    fn gateway(&self, d: &mut Dice, n: usize, mine: &[usize]) -> Option<Via> {
        let seg = mine[d.below(mine.len())];
        let others: Vec<&Member> = self.segs[seg]
            .members
            .iter()
            .filter(|m| m.node != n)
            .collect();
        let m = others.get(d.below(others.len()))?;
        Some(Via::Gateway { seg, host: m.host })
    }

    /// The segments (indexes) a node has an interface on.
    pub fn segments_of(&self, node: usize) -> Vec<usize> {
        (0..self.segs.len())
            .filter(|&s| self.segs[s].members.iter().any(|m| m.node == node))
            .collect()
    }
}
