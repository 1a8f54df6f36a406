//! The namespaces of one scenario: building them from a plan, waiting until the
//! topology is ready, and tearing them down.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::try_join_all;

use crate::netlink::{self, LinkState, Nl, NlError};
use crate::netns::Netns;
use crate::plan::{Op, Plan, Readiness};
use crate::scenario::{IfKind, IfRef, OperState, Scenario};

/// How long the topology may take to become ready. Generous: linkwatch is global
/// and can lag by 100 ms or more on a loaded machine.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub enum ApplyError {
    Namespace {
        node: String,
        source: io::Error,
    },
    Netlink(NlError),
    Sysctl {
        node: String,
        key: String,
        value: String,
        source: io::Error,
    },
    NotReady {
        after: Duration,
        waiting_for: Vec<String>,
    },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Namespace { node, source } => {
                write!(f, "failed to create the namespace of node {node}: {source}")
            }
            ApplyError::Netlink(e) => e.fmt(f),
            ApplyError::Sysctl {
                node,
                key,
                value,
                source,
            } => write!(
                f,
                "failed to set sysctl {key}={value} in node {node}: {source}"
            ),
            ApplyError::NotReady { after, waiting_for } => write!(
                f,
                "topology not ready after {after:?}: {}",
                waiting_for.join("; ")
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

impl ApplyError {
    /// The kernel refused to create a link of a kind it does not have (EOPNOTSUPP):
    /// the scenario needs a missing feature.
    pub(crate) fn missing_feature(&self) -> Option<String> {
        match self {
            ApplyError::Netlink(e)
                if e.op.starts_with("create")
                    && e.detail.starts_with("Operation not supported") =>
            {
                Some(format!(
                    "the kernel refused to {} in node {}: {}",
                    e.op, e.node, e.detail
                ))
            }
            _ => None,
        }
    }
}

impl From<NlError> for ApplyError {
    fn from(e: NlError) -> Self {
        ApplyError::Netlink(e)
    }
}

pub(crate) struct NodeHandle {
    pub ns: Netns,
    pub nl: Nl,
    indexes: Mutex<HashMap<String, u32>>,
}

pub(crate) struct Sandbox {
    pub nodes: BTreeMap<String, NodeHandle>,
}

impl Sandbox {
    /// Creates one namespace and one netlink socket per node, concurrently.
    /// Must be called inside a tokio runtime, which then owns the sockets.
    pub(crate) async fn create(sc: &Scenario, plan: &Plan) -> Result<Sandbox, ApplyError> {
        let threads: Vec<_> = sc
            .nodes
            .iter()
            .map(|n| {
                let name = n.name.clone();
                // A node without IPv6 addresses gets IPv6 off before its links exist, as
                // Docker does for containers: no link-local DAD, MLD or router solicitations,
                // so nothing is learned or resolved behind the scenario's back.
                let ipv6 = n
                    .interfaces
                    .iter()
                    .any(|i| i.addresses.iter().any(|c| c.addr.is_ipv6()));
                let mut early: Vec<(String, String)> = Vec::new();
                if !ipv6 {
                    for k in ["all", "default"] {
                        early.push((format!("net.ipv6.conf.{k}.disable_ipv6"), "1".into()));
                    }
                }
                // The scenario's own come after, so they can turn IPv6 back on.
                early.extend(plan.early_sysctls.get(&n.name).cloned().unwrap_or_default());
                let thread = Netns::spawn_create(move || {
                    for (k, v) in &early {
                        std::fs::write(sysctl_path(k), v).map_err(|e| {
                            io::Error::new(e.kind(), format!("cannot set sysctl {k}={v}: {e}"))
                        })?;
                    }
                    netlink::open_socket()
                });
                (name, thread)
            })
            .collect();
        let mut nodes = BTreeMap::new();
        let mut first_err = None;
        for (name, t) in threads {
            let joined = t.and_then(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
            });
            match joined {
                Ok((ns, fd)) => {
                    let nl = netlink::connect(fd, &name);
                    nodes.insert(
                        name,
                        NodeHandle {
                            ns,
                            nl,
                            indexes: Mutex::new(HashMap::new()),
                        },
                    );
                }
                Err(source) => {
                    first_err.get_or_insert(ApplyError::Namespace { node: name, source });
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(Sandbox { nodes }),
        }
    }

    pub(crate) fn node(&self, name: &str) -> &NodeHandle {
        &self.nodes[name]
    }

    /// The ifindex of `name` in `node`, from a cache filled by a link dump.
    pub(crate) async fn index(&self, node: &str, name: &str) -> Result<u32, NlError> {
        let h = self.node(node);
        if let Some(i) = h.indexes.lock().unwrap().get(name) {
            return Ok(*i);
        }
        self.refresh_indexes(node).await?;
        h.indexes
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .ok_or_else(|| NlError {
                op: format!("find interface {name}"),
                node: node.to_string(),
                detail: "no such interface".into(),
            })
    }

    async fn refresh_indexes(&self, node: &str) -> Result<Vec<LinkState>, NlError> {
        let h = self.node(node);
        let links = h.nl.links().await?;
        let mut map = h.indexes.lock().unwrap();
        for l in &links {
            map.insert(l.name.clone(), l.index);
        }
        Ok(links)
    }

    /// Builds the topology and waits until it is ready.
    pub(crate) async fn apply(&self, plan: &Plan) -> Result<(), ApplyError> {
        // Loopback is down in a fresh namespace; a ping to a node's own address needs it.
        for (r, i) in &plan.indexes {
            self.node(&r.node)
                .indexes
                .lock()
                .unwrap()
                .insert(r.ifname.clone(), *i);
        }
        let trace = std::env::var_os("NETSPEC_TRACE").is_some();
        for (name, ops) in &plan.phases {
            if ops.is_empty() {
                continue;
            }
            let t0 = Instant::now();
            self.run_phase(ops).await?;
            if trace {
                eprintln!(
                    "netspec: {name}: {} ops in {:.2} ms",
                    ops.len(),
                    t0.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        let t0 = Instant::now();
        let r = self.wait_ready(&plan.ready, READY_DEADLINE).await;
        if trace {
            eprintln!(
                "netspec: readiness: {:.2} ms",
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
        r
    }

    async fn run_phase(&self, ops: &[Op]) -> Result<(), ApplyError> {
        // sysctls are file writes from a thread inside the namespace: one thread per node.
        let mut sysctls: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
        for op in ops {
            if let Op::Sysctl { node, key, value } = op {
                sysctls
                    .entry(node)
                    .or_default()
                    .push((key.clone(), value.clone()));
            }
        }
        for (node, kv) in sysctls {
            self.write_sysctls(node, kv)?;
        }
        try_join_all(
            ops.iter()
                .filter(|o| !matches!(o, Op::Sysctl { .. }))
                .map(|op| self.exec(op)),
        )
        .await?;
        Ok(())
    }

    pub(crate) fn write_sysctls(
        &self,
        node: &str,
        kv: Vec<(String, String)>,
    ) -> Result<(), ApplyError> {
        let res = self.node(node).ns.run_in(move || {
            for (k, v) in &kv {
                if let Err(e) = std::fs::write(sysctl_path(k), v) {
                    return Ok(Some((k.clone(), v.clone(), e)));
                }
            }
            Ok(None)
        });
        match res {
            Ok(None) => Ok(()),
            Ok(Some((key, value, source))) => Err(ApplyError::Sysctl {
                node: node.into(),
                key,
                value,
                source,
            }),
            Err(source) => Err(ApplyError::Namespace {
                node: node.into(),
                source,
            }),
        }
    }

    async fn exec(&self, op: &Op) -> Result<(), NlError> {
        match op {
            Op::CreateBridge {
                node,
                name,
                mac,
                mtu,
                opts,
            } => {
                let i = self.index(node, name).await?;
                self.node(node)
                    .nl
                    .add_bridge(i, name, *mac, *mtu, opts)
                    .await
            }
            Op::CreateVeth {
                end,
                mac,
                mtu,
                peer,
                peer_mac,
                peer_mtu,
            } => {
                let peer_fd = self.node(&peer.node).ns.raw_fd();
                let i = self.index(&end.node, &end.ifname).await?;
                let pi = self.index(&peer.node, &peer.ifname).await?;
                self.node(&end.node)
                    .nl
                    .add_veth(
                        i,
                        &end.ifname,
                        *mac,
                        *mtu,
                        peer_fd,
                        &peer.node,
                        &peer.ifname,
                        pi,
                        *peer_mac,
                        *peer_mtu,
                    )
                    .await
            }
            Op::CreateMacvlan {
                node,
                name,
                mac,
                mtu,
                parent,
                mode,
            } => {
                // Asked of the parent's node; born in its own (the same, or another).
                let p = self.index(&parent.node, &parent.ifname).await?;
                let i = self.index(node, name).await?;
                let target = (parent.node != *node).then(|| self.node(node).ns.raw_fd());
                self.node(&parent.node)
                    .nl
                    .add_macvlan(i, name, *mac, *mtu, p, *mode, target)
                    .await
            }
            Op::CreateVxlan {
                node,
                name,
                mac,
                mtu,
                kind:
                    IfKind::Vxlan {
                        vni,
                        local,
                        remote,
                        dev,
                        dstport,
                    },
            } => {
                let d = match dev {
                    Some(d) => Some(self.index(node, d).await?),
                    None => None,
                };
                let i = self.index(node, name).await?;
                self.node(node)
                    .nl
                    .add_vxlan(i, name, *mac, *mtu, *vni, *local, *remote, d, *dstport)
                    .await
            }
            Op::CreateVxlan { .. } => {
                unreachable!("plan builds CreateVxlan from vxlan interfaces only")
            }
            Op::Sysctl { .. } => unreachable!("sysctls are written by run_phase"),
            Op::SetMaster { node, name, master } => {
                let i = self.index(node, name).await?;
                let m = self.index(node, master).await?;
                self.node(node).nl.set_master(i, name, m, master).await
            }
            Op::AddAddress {
                node,
                name,
                cidr,
                dad,
            } => {
                let i = self.index(node, name).await?;
                self.node(node).nl.add_address(i, name, *cidr, *dad).await
            }
            Op::SetUp { node, name } => {
                let i = self.index(node, name).await?;
                self.node(node).nl.set_up(i, name, true).await
            }
            Op::SetPort { node, name, opts } => {
                let i = self.index(node, name).await?;
                self.node(node).nl.set_port(i, name, opts).await
            }
            Op::AddNeigh { node, entry } => {
                let i = self.index(node, &entry.dev).await?;
                self.node(node).nl.add_neigh(i, entry).await
            }
            Op::AddFdb { node, entry } => {
                let i = self.index(node, &entry.port).await?;
                self.node(node).nl.add_fdb(i, entry).await
            }
            Op::AddRoute { node, route } => {
                let oif = match &route.dev {
                    Some(d) => Some(self.index(node, d).await?),
                    None => None,
                };
                self.node(node).nl.add_route(route, oif).await
            }
        }
    }

    /// Polls the kernel, with a deadline, until every link in `ready` is oper-up and
    /// every IPv6 prefix route exists. Polling starts at 50 µs and backs off to 2 ms, so
    /// a topology that is ready at once costs one dump per node, and one that needs
    /// linkwatch's few hundred µs is seen soon after.
    pub(crate) async fn wait_ready(
        &self,
        ready: &Readiness,
        deadline: Duration,
    ) -> Result<(), ApplyError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            let missing = self.not_ready(ready).await?;
            if missing.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= deadline {
                return Err(ApplyError::NotReady {
                    after: deadline,
                    waiting_for: missing,
                });
            }
            // tokio's timer has a 1 ms grain; this runtime runs nothing else meanwhile.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    }

    async fn not_ready(&self, ready: &Readiness) -> Result<Vec<String>, NlError> {
        let mut missing = Vec::new();
        let mut nodes: Vec<&str> = ready.links_up.iter().map(|r| r.node.as_str()).collect();
        nodes.sort();
        nodes.dedup();
        let dumps = try_join_all(nodes.iter().map(|n| self.node(n).nl.links())).await?;
        let links: HashMap<&str, Vec<LinkState>> = nodes.iter().copied().zip(dumps).collect();
        for r in &ready.links_up {
            let state = links[r.node.as_str()]
                .iter()
                .find(|l| l.name == r.ifname)
                .map(|l| l.oper);
            if state != Some(OperState::Up) {
                missing.push(format!(
                    "{r} is {}, expected up",
                    state
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "missing".into())
                ));
            }
        }
        let mut v6_nodes: Vec<&str> = ready
            .v6_prefix_routes
            .iter()
            .map(|(r, _)| r.node.as_str())
            .collect();
        v6_nodes.sort();
        v6_nodes.dedup();
        for n in v6_nodes {
            let routes = self.node(n).nl.routes().await?;
            for (r, prefix) in ready.v6_prefix_routes.iter().filter(|(r, _)| r.node == n) {
                let idx = self.index(n, &r.ifname).await?;
                if !routes
                    .iter()
                    .any(|rt| rt.dst == *prefix && rt.oif == Some(idx))
                {
                    missing.push(format!("{r} has no route {prefix} yet"));
                }
            }
        }
        Ok(missing)
    }

    /// Waits until one link reports the oper state the topology implies (after a step
    /// changed it).
    pub(crate) async fn wait_link_ready(&self, sc: &Scenario, r: &IfRef) -> Result<(), ApplyError> {
        let mut ready = Readiness::default();
        for candidate in link_and_neighbours(sc, r) {
            if crate::plan::will_carry(sc, &candidate) {
                ready.links_up.push(candidate);
            }
        }
        self.wait_ready(&ready, READY_DEADLINE).await
    }

    /// The namespaces' inode numbers, to prove later that none is still held.
    pub fn inodes(&self) -> Vec<u64> {
        self.nodes.values().map(|h| h.ns.inode()).collect()
    }
}

/// `net.ipv4.ip_forward` -> `/proc/sys/net/ipv4/ip_forward`; a key written with `/`
/// (needed when an interface name contains a dot) is taken as it is.
fn sysctl_path(key: &str) -> String {
    if key.contains('/') {
        format!("/proc/sys/{key}")
    } else {
        format!("/proc/sys/{}", key.replace('.', "/"))
    }
}

/// A link, its veth peer and its bridge: the links whose carrier follows it.
fn link_and_neighbours(sc: &Scenario, r: &IfRef) -> Vec<IfRef> {
    let mut v = vec![r.clone()];
    if let Some(i) = sc.interface(r) {
        if let IfKind::Veth { peer, .. } = &i.kind {
            v.push(peer.clone());
            if let Some(m) = sc.interface(peer).and_then(|p| p.master.clone()) {
                v.push(IfRef {
                    node: peer.node.clone(),
                    ifname: m,
                });
            }
        }
        if let Some(m) = &i.master {
            v.push(IfRef {
                node: r.node.clone(),
                ifname: m.clone(),
            });
        }
    }
    v
}
