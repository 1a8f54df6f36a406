//! Kernel events instead of sleeps: each node has one rtnetlink socket that joins
//! multicast groups when something first waits on that node's state, and stays in
//! them until the node's teardown (joining costs a system call per group, and the
//! events queued between waits are dropped unread). A wait looks,
//! and when what it waits for does not hold yet, sleeps until the kernel announces a
//! change (a link, a neighbour, an address, a route, a rule, a nexthop, a bridge VLAN)
//! in one of the nodes it watches, then looks again.
//!
//! Not every change is announced: a neighbour going from REACHABLE to DELAY, for one,
//! is silent, and netfilter counters and tapped frames have no rtnetlink event at all.
//! So a wait also wakes after a fallback pause; the event only makes it sooner.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// rtnetlink multicast groups (`RTNLGRP_*` in `linux/rtnetlink.h`), as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Groups(u64);

impl Groups {
    pub(crate) const LINK: Groups = Groups::one(1);
    /// ARP/ND entries, and bridge FDB entries (`AF_BRIDGE` neighbours).
    pub(crate) const NEIGH: Groups = Groups::one(3);
    pub(crate) const IPV4_IFADDR: Groups = Groups::one(5);
    pub(crate) const IPV4_ROUTE: Groups = Groups::one(7);
    pub(crate) const IPV4_RULE: Groups = Groups::one(8);
    pub(crate) const IPV6_IFADDR: Groups = Groups::one(9);
    pub(crate) const IPV6_ROUTE: Groups = Groups::one(11);
    pub(crate) const IPV6_RULE: Groups = Groups::one(19);
    pub(crate) const NEXTHOP: Groups = Groups::one(32);
    pub(crate) const BRVLAN: Groups = Groups::one(33);

    pub(crate) const ROUTES: Groups = Groups::IPV4_ROUTE.with(Groups::IPV6_ROUTE);
    pub(crate) const ADDRESSES: Groups = Groups::IPV4_IFADDR.with(Groups::IPV6_IFADDR);
    pub(crate) const RULES: Groups = Groups::IPV4_RULE.with(Groups::IPV6_RULE);
    /// What a route lookup depends on: links, addresses, neighbours, routes, rules
    /// and nexthops.
    pub(crate) const FORWARDING: Groups = Groups::LINK
        .with(Groups::NEIGH)
        .with(Groups::ADDRESSES)
        .with(Groups::ROUTES)
        .with(Groups::RULES)
        .with(Groups::NEXTHOP);

    const fn one(group: u32) -> Groups {
        Groups(1 << group)
    }

    pub(crate) const fn with(self, other: Groups) -> Groups {
        Groups(self.0 | other.0)
    }

    fn numbers(self) -> impl Iterator<Item = u32> {
        (1..64).filter(move |g| self.0 & (1 << g) != 0)
    }
}

/// One node's event socket: opened inside the node's namespace, joined to no group
/// until a wait subscribes it.
#[derive(Debug)]
pub(crate) struct Listener {
    fd: OwnedFd,
    /// The groups joined so far.
    joined: AtomicU64,
}

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;

impl Listener {
    /// Opens the socket; call it on a thread inside the node's namespace.
    pub(crate) fn open() -> io::Result<Listener> {
        // SAFETY: plain socket(2); the fd is owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_nl is plain data; all zero asks for an automatic port id.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: a valid sockaddr_nl of the size given.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Listener {
            fd,
            joined: AtomicU64::new(0),
        })
    }

    /// Joins whichever of `groups` it has not joined yet, and discards the events
    /// queued so far: the caller looks at the state after subscribing, and waits for
    /// what comes after that look.
    pub(crate) fn subscribe(&self, groups: Groups) -> io::Result<Subscription<'_>> {
        let joined = Groups(self.joined.load(Ordering::Relaxed));
        for g in groups.numbers() {
            if joined.0 & (1 << g) == 0 {
                self.membership(g)?;
                self.joined.fetch_or(1 << g, Ordering::Relaxed);
            }
        }
        self.drain();
        Ok(Subscription { listener: self })
    }

    fn membership(&self, group: u32) -> io::Result<()> {
        // SAFETY: a valid int option on our own socket.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                SOL_NETLINK,
                NETLINK_ADD_MEMBERSHIP,
                std::ptr::addr_of!(group).cast(),
                std::mem::size_of::<u32>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads and discards every queued event; how many reads found one. An overflow
    /// (ENOBUFS: the kernel dropped events) counts as one: something changed.
    fn drain(&self) -> usize {
        let mut buf = [0u8; 16 * 1024];
        let mut seen = 0;
        loop {
            // SAFETY: reads into our own buffer, of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                seen += 1;
                continue;
            }
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) {
                seen += 1;
                continue;
            }
            // EAGAIN (nothing queued), or anything else: nothing more to read now.
            return seen;
        }
    }
}

/// A listener that a wait has subscribed, for `wait`.
pub(crate) struct Subscription<'a> {
    listener: &'a Listener,
}

/// Sleeps until one of `subs` has an event or `pause` has passed, whichever comes
/// first, and discards the events: the caller looks at the state again either way.
/// True when an event woke it. Blocks the thread: the waits that call it run nothing
/// else on their runtime meanwhile.
pub(crate) fn wait(subs: &[Subscription<'_>], pause: Duration) -> bool {
    let fds: Vec<_> = subs.iter().map(|s| s.listener.fd.as_raw_fd()).collect();
    // A failed poll is a pause without an event: the caller looks again anyway.
    match crate::probe::readable(&fds, pause) {
        Ok(ready) if ready.contains(&true) => {
            subs.iter().map(|s| s.listener.drain()).sum::<usize>() > 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netns::Netns;

    /// Sets `lo` up or down with SIOCSIFFLAGS, in the calling thread's namespace.
    fn loopback(up: bool) -> io::Result<()> {
        // SAFETY: an ioctl socket of our own and an ifreq we fill; both checked.
        unsafe {
            let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
            if s < 0 {
                return Err(io::Error::last_os_error());
            }
            let s = OwnedFd::from_raw_fd(s);
            let mut req: libc::ifreq = std::mem::zeroed();
            req.ifr_name[..2].copy_from_slice(&[b'l' as libc::c_char, b'o' as libc::c_char]);
            if libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
                return Err(io::Error::last_os_error());
            }
            let flag = libc::IFF_UP as libc::c_short;
            if up {
                req.ifr_ifru.ifru_flags |= flag;
            } else {
                req.ifr_ifru.ifru_flags &= !flag;
            }
            if libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    #[test]
    fn a_link_change_wakes_a_wait_and_an_earlier_one_does_not() {
        if let Some(why) = crate::privileges::missing_privileges() {
            panic!("{why}");
        }
        let (ns, listener) = Netns::spawn_create(Listener::open)
            .and_then(|h| h.join().expect("thread"))
            .expect("a namespace with a listener");
        // Joined, then a change before the wait subscribes again: the subscription
        // discards it, so the wait sleeps out its pause.
        listener.subscribe(Groups::LINK).expect("join");
        ns.run_in(|| loopback(true)).expect("lo up");
        let sub = listener.subscribe(Groups::LINK).expect("subscribe");
        let quiet = wait(std::slice::from_ref(&sub), Duration::from_millis(20));
        assert!(
            !quiet,
            "an event from before the subscription woke the wait"
        );
        // Now a change while subscribed (lo down and up again) wakes it.
        ns.run_in(|| loopback(false)).expect("lo down");
        assert!(
            wait(std::slice::from_ref(&sub), Duration::from_secs(5)),
            "the link change did not wake the wait"
        );
        // The wait drained what woke it.
        assert!(!wait(&[sub], Duration::from_millis(5)));
        ns.close().expect("close");
    }

    #[test]
    fn groups_are_the_kernel_numbers() {
        let g = Groups::LINK.with(Groups::NEXTHOP).with(Groups::BRVLAN);
        assert_eq!(g.numbers().collect::<Vec<_>>(), vec![1, 32, 33]);
        assert_eq!(Groups::default().numbers().count(), 0);
        assert_eq!(
            Groups::FORWARDING.numbers().collect::<Vec<_>>(),
            vec![1, 3, 5, 7, 8, 9, 11, 19, 32]
        );
    }
}
