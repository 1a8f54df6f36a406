//! The namespaces of one scenario and their netlink sockets: created from a plan,
//! offered to the other stages through a few operations, and torn down. Its fields
//! are its own: nothing outside reaches into a node's handle.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::Mutex;

use crate::error::ApplyError;
use crate::events::{Groups, Listener, Subscription};
use crate::netlink::{self, Nl, NlError};
use crate::netns::Netns;
use crate::plan::Plan;
use crate::scenario::{NodeName, Scenario};

struct NodeHandle {
    ns: Netns,
    nl: Nl,
    events: Listener,
    indexes: Mutex<HashMap<String, u32>>,
}

pub(crate) struct Sandbox {
    nodes: BTreeMap<NodeName, NodeHandle>,
}

impl Sandbox {
    /// Creates one namespace per node, concurrently, each with a netlink socket for
    /// requests and one for events (`events`).
    /// Must be called inside a tokio runtime, which then owns the sockets.
    pub(crate) async fn create(sc: &Scenario, plan: &Plan) -> Result<Sandbox, ApplyError> {
        let threads: Vec<_> = sc
            .nodes
            .iter()
            .map(|n| {
                let name = n.name.clone();
                // Planned: IPv6 off or DAD off, then the scenario's own that name no link.
                let early = plan.early_sysctls.get(&n.name).cloned().unwrap_or_default();
                let thread = Netns::spawn_create(move || {
                    for (k, v) in &early {
                        std::fs::write(sysctl_path(k), v).map_err(|e| {
                            io::Error::new(e.kind(), format!("cannot set sysctl {k}={v}: {e}"))
                        })?;
                    }
                    Ok((netlink::open_socket()?, Listener::open()?))
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
                Ok((ns, (fd, events))) => {
                    let nl = netlink::connect(fd, &name);
                    nodes.insert(
                        name,
                        NodeHandle {
                            ns,
                            nl,
                            events,
                            indexes: Mutex::new(HashMap::new()),
                        },
                    );
                }
                Err(source) => {
                    first_err.get_or_insert(ApplyError::Namespace {
                        node: name.to_string(),
                        source,
                    });
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(Sandbox { nodes }),
        }
    }

    fn node(&self, name: &str) -> &NodeHandle {
        &self.nodes[name]
    }

    /// The netlink handle of a node. Resolve guarantees that every node a step names exists.
    pub(crate) fn nl(&self, node: &str) -> &Nl {
        &self.node(node).nl
    }

    /// The namespace of a node, to open sockets in it.
    pub(crate) fn ns(&self, node: &str) -> &Netns {
        &self.node(node).ns
    }

    /// Subscribes to `groups` in each of `nodes` (each once), for `events::wait`.
    pub(crate) fn subscribe<'a>(
        &'a self,
        nodes: impl IntoIterator<Item = &'a str>,
        groups: Groups,
    ) -> Result<Vec<Subscription<'a>>, NlError> {
        let mut names: Vec<&str> = nodes.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| {
                self.node(n).events.subscribe(groups).map_err(|e| NlError {
                    op: "subscribe to rtnetlink events".into(),
                    node: n.to_string(),
                    detail: e.to_string(),
                    errno: e.raw_os_error(),
                })
            })
            .collect()
    }

    /// Every node's namespace, by name.
    pub(crate) fn namespaces(&self) -> impl Iterator<Item = (&str, &Netns)> {
        self.nodes.iter().map(|(n, h)| (n.as_str(), &h.ns))
    }

    /// Records the ifindex an interface was created with (the plan chose it).
    pub(crate) fn remember_index(&self, node: &str, name: &str, index: u32) {
        self.node(node)
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), index);
    }

    /// The ifindex of `name` in `node`, from a cache filled by a link dump.
    pub(crate) async fn index(&self, node: &str, name: &str) -> Result<u32, NlError> {
        let h = self.node(node);
        if let Some(i) = h
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(*i);
        }
        self.refresh_indexes(node).await?;
        h.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .ok_or_else(|| NlError {
                op: format!("find interface {name}"),
                node: node.to_string(),
                detail: "no such interface".into(),
                errno: Some(libc::ENODEV),
            })
    }

    async fn refresh_indexes(&self, node: &str) -> Result<(), NlError> {
        let h = self.node(node);
        let links = h.nl.links().await?;
        let mut map = h.indexes.lock().unwrap_or_else(|e| e.into_inner());
        for l in &links {
            map.insert(l.name.clone(), l.index);
        }
        Ok(())
    }

    /// A sysctl's value as the node sees it, trimmed; None if it cannot be read.
    /// `key` is netspec's own, never a scenario's.
    pub(crate) fn read_sysctl(&self, node: &str, key: &str) -> Option<String> {
        let path = sysctl_path(key);
        let read = self
            .node(node)
            .ns
            .run_in(move || std::fs::read_to_string(path));
        read.ok().map(|v| v.trim().to_string())
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

    /// Closes every namespace fd, trying each and collecting every error. The netlink
    /// sockets close with the runtime that owns them; after both, nothing holds the
    /// namespaces and the kernel frees them.
    pub(crate) fn teardown(self) -> Vec<String> {
        let mut errors = Vec::new();
        for (name, h) in self.nodes {
            if let Err(e) = h.ns.close() {
                errors.push(format!("closing the namespace of node {name}: {e}"));
            }
        }
        errors
    }

    /// The namespaces' inode numbers, to prove later that none is still held.
    pub(crate) fn inodes(&self) -> Vec<u64> {
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
