//! What `cargo bench` measures inside the process, where a whole-process timing cannot
//! see: how soon a waiting check passes after the kernel event that satisfies it.
//! Not part of the API; the benches call it.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::sandbox::Sandbox;
use crate::step::{self, Live};

const SCENARIO: &str = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.0.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.0.0.2/24] }
steps:
  - check: { route: { node: a, to: 10.9.0.0/24, dev: eth0 } }
    within: 2s
";

/// What `within_latency` measured, one sample per round.
#[derive(Debug)]
pub struct Latency {
    /// From just before the route was added to the check's verdict.
    pub event_to_verdict: Vec<Duration>,
    /// The same check once more, the route there: one look and its verdict.
    pub one_look: Vec<Duration>,
    /// From just before the route was added to the moment netspec's event wait
    /// returned, with no look after it: what the kernel and the scheduler take to
    /// deliver the event to a sleeping thread, before netspec does anything.
    pub event_to_wake: Vec<Duration>,
}

/// `rounds` times: a `check: {route}` with `within: 2s` starts waiting for a route
/// that is not there; another thread adds it over its own netlink socket 1-4 ms later.
/// Each sample is the time from just before that request was sent to the moment the
/// check returned its verdict: an upper bound on event-to-verdict latency. Then as
/// many rounds of the same route added while netspec's event wait sleeps, with no check:
/// the part of that latency that comes before netspec looks. Needs root.
pub fn within_latency(rounds: usize) -> Result<Latency, String> {
    let sc =
        crate::load_str("latency.yaml".as_ref(), "latency", SCENARIO).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let plan = crate::plan::plan(&sc);
        let sb = Sandbox::create(&sc, &plan)
            .await
            .map_err(|e| e.to_string())?;
        let samples = measure(&sb, &sc, &plan, rounds).await;
        sb.teardown();
        samples
    })
}

async fn measure(
    sb: &Sandbox,
    sc: &crate::Scenario,
    plan: &crate::plan::Plan,
    rounds: usize,
) -> Result<Latency, String> {
    crate::apply::apply(sb, plan)
        .await
        .map_err(|e| e.to_string())?;
    let eth0 = sb.index("a", "eth0").await.map_err(|e| e.to_string())?;
    let fd = sb
        .ns("a")
        .run_in(crate::netlink::open_socket)
        .map_err(|e| e.to_string())?;
    // SAFETY: a fresh socket that nothing else owns.
    let changer = std::sync::Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
    let step = &sc.steps[0];
    let mut live = Live::default();
    let mut samples = Vec::with_capacity(rounds);
    let mut looks = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let adder = add_later(&changer, eth0, i);
        let until = Instant::now() + Duration::from_secs(5);
        let done = step::run(sb, sc, step, until, None, &mut live, false).await;
        let returned = Instant::now();
        let t0 = joined(adder)?;
        if !done.verdict.passed {
            return Err(format!("round {i}: {}", done.verdict.actual));
        }
        samples.push(returned.saturating_duration_since(t0));
        let t1 = Instant::now();
        let again = step::run(sb, sc, step, until, None, &mut live, false).await;
        looks.push(t1.elapsed());
        if !again.verdict.passed {
            return Err(format!(
                "round {i}, looking again: {}",
                again.verdict.actual
            ));
        }
        request(&changer, RouteNetlinkMessage::DelRoute(route(eth0))).map_err(|e| e.to_string())?;
    }
    let mut wakes = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let subs = sb
            .subscribe(["a"], crate::events::Groups::ROUTES)
            .map_err(|e| e.to_string())?;
        let adder = add_later(&changer, eth0, i);
        let woke = crate::events::wait(&subs, Duration::from_secs(5));
        let returned = Instant::now();
        let t0 = joined(adder)?;
        if !woke {
            return Err(format!("round {i}: the wait returned without the event"));
        }
        wakes.push(returned.saturating_duration_since(t0));
        request(&changer, RouteNetlinkMessage::DelRoute(route(eth0))).map_err(|e| e.to_string())?;
    }
    Ok(Latency {
        event_to_verdict: samples,
        one_look: looks,
        event_to_wake: wakes,
    })
}

type Adder = std::thread::JoinHandle<std::io::Result<Instant>>;

/// A thread that adds the route 1-4 ms from now (varied by `round`), and returns the
/// moment just before it sent the request.
fn add_later(fd: &std::sync::Arc<OwnedFd>, eth0: u32, round: usize) -> Adder {
    let delay = Duration::from_micros(1000 + (round as u64 * 7919) % 3000);
    let fd = fd.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let t0 = Instant::now();
        request(&fd, RouteNetlinkMessage::NewRoute(route(eth0))).map(|()| t0)
    })
}

fn joined(adder: Adder) -> Result<Instant, String> {
    adder
        .join()
        .map_err(|_| "the adding thread panicked".to_string())?
        .map_err(|e| e.to_string())
}

/// `10.9.0.0/24 dev eth0`, in the main table.
fn route(oif: u32) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = 24;
    m.header.table = 254;
    m.header.protocol = RouteProtocol::Static;
    m.header.scope = RouteScope::Link;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Destination(RouteAddress::Inet(
            std::net::Ipv4Addr::new(10, 9, 0, 0),
        )));
    m.attributes.push(RouteAttribute::Oif(oif));
    m
}

fn request(fd: &OwnedFd, msg: RouteNetlinkMessage) -> std::io::Result<()> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK;
    if matches!(msg, RouteNetlinkMessage::NewRoute(_)) {
        header.flags |= NLM_F_CREATE | NLM_F_EXCL;
    }
    let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    nl.finalize();
    let mut buf = vec![0u8; nl.buffer_len()];
    nl.serialize(&mut buf);
    match crate::netlink::nexthop::exchange(fd, &buf)? {
        Ok(_) => Ok(()),
        Err(e) => Err(std::io::Error::other(format!("{e:?}"))),
    }
}
