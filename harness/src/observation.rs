//! What a check looked at: pure data, filled by `check` and judged by `expect`, so that
//! neither imports the other's module for it.

use crate::netfilter::Counter;
use crate::state::{NodeState, RouteEntry};
use crate::watches::Tally;

/// What a check looked at.
#[derive(Debug, Clone)]
pub(crate) enum Observation {
    /// A node's state (for neigh, fdb, link and route-entry checks).
    Node(NodeState),
    /// The kernel's answer to a route lookup (`ip route get`).
    Lookup(Option<RouteEntry>),
    /// What a watch counted.
    Frames(Tally),
    /// A node's named netfilter counters.
    Counters(Vec<Counter>),
}
