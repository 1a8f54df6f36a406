//! A pcapng writer (the IETF draft, as Wireshark and tshark read it): one Section Header
//! Block, one Interface Description Block per captured interface, named `node:if`, with
//! nanosecond timestamps, one Enhanced Packet Block per frame, flagged inbound or
//! outbound, and an Interface Statistics Block per interface that lost frames
//! (`isb_ifdrop` for the kernel's drops, a comment for frames past the bound). Pure:
//! bytes in, bytes out.

use crate::probe::capture::Frame;
use crate::scenario::IfRef;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const ISB: u32 = 0x0000_0005;
const ISB_IFDROP: u16 = 5;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const LINKTYPE_ETHERNET: u16 = 1;
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;

/// Appends an option (code, length, value padded to 32 bits).
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Appends a block: type, total length, body, total length again.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

/// What one interface's capture lacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Losses {
    /// Dropped by the kernel before netspec read them.
    pub dropped: u64,
    /// Read, but past the capture's bound.
    pub not_kept: u64,
}

/// The whole file: `interfaces` in order (their index is their interface id), then
/// every frame seen on one of them, in the order given, then the statistics of each
/// interface that lost frames (`losses`, in the order of `interfaces`).
pub(crate) fn write(
    scenario: &str,
    interfaces: &[IfRef],
    frames: &[Frame],
    losses: &[Losses],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes()); // major
    shb.extend_from_slice(&0u16.to_le_bytes()); // minor
    shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
    option(
        &mut shb,
        OPT_COMMENT,
        format!("netspec scenario {scenario}").as_bytes(),
    );
    option(&mut shb, OPT_ENDOFOPT, &[]);
    block(&mut out, SHB, &shb);
    for r in interfaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes()); // reserved
        idb.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
        option(&mut idb, IF_NAME, r.to_string().as_bytes());
        option(&mut idb, IF_TSRESOL, &[9]); // 10^-9 s
        option(&mut idb, OPT_ENDOFOPT, &[]);
        block(&mut out, IDB, &idb);
    }
    for f in frames {
        let Some(id) = interfaces.iter().position(|r| *r == f.at) else {
            continue;
        };
        let ts = f.when.as_nanos() as u64;
        let mut epb = Vec::with_capacity(f.bytes.len() + 40);
        epb.extend_from_slice(&(id as u32).to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(f.bytes.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(f.bytes.len() as u32).to_le_bytes());
        epb.extend_from_slice(&f.bytes);
        epb.resize(epb.len().next_multiple_of(4), 0);
        // Bits 0-1: 01 inbound, 10 outbound.
        let flags: u32 = if f.outgoing { 2 } else { 1 };
        option(&mut epb, EPB_FLAGS, &flags.to_le_bytes());
        option(&mut epb, OPT_ENDOFOPT, &[]);
        block(&mut out, EPB, &epb);
    }
    let last = frames.last().map_or(0, |f| f.when.as_nanos() as u64);
    for (id, l) in losses.iter().enumerate() {
        if *l == Losses::default() {
            continue;
        }
        let mut isb = Vec::new();
        isb.extend_from_slice(&(id as u32).to_le_bytes());
        isb.extend_from_slice(&((last >> 32) as u32).to_le_bytes());
        isb.extend_from_slice(&(last as u32).to_le_bytes());
        option(&mut isb, ISB_IFDROP, &l.dropped.to_le_bytes());
        if l.not_kept > 0 {
            let note = format!(
                "{} frames not kept: the capture reached its bound",
                l.not_kept
            );
            option(&mut isb, OPT_COMMENT, note.as_bytes());
        }
        option(&mut isb, OPT_ENDOFOPT, &[]);
        block(&mut out, ISB, &isb);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn blocks_are_framed_by_their_lengths_and_aligned() {
        let at = IfRef {
            node: "h1".into(),
            ifname: "eth0".into(),
        };
        let frame = Frame {
            at: at.clone(),
            when: Duration::new(1_700_000_000, 5),
            outgoing: true,
            bytes: vec![0xff; 61],
        };
        let lost = Losses {
            dropped: 7,
            not_kept: 2,
        };
        let file = write("t", &[at], &[frame], &[lost]);
        let mut off = 0;
        let mut kinds = Vec::new();
        while off < file.len() {
            let kind = u32::from_le_bytes(file[off..off + 4].try_into().unwrap());
            let len = u32::from_le_bytes(file[off + 4..off + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0, "block {kind:#x} is 32-bit aligned");
            let trailer = u32::from_le_bytes(file[off + len - 4..off + len].try_into().unwrap());
            assert_eq!(trailer as usize, len, "block {kind:#x} repeats its length");
            kinds.push(kind);
            off += len;
        }
        assert_eq!(off, file.len());
        assert_eq!(kinds, [SHB, IDB, EPB, ISB]);
        let isb = file.len()
            - file
                .windows(4)
                .rev()
                .position(|w| w == ISB.to_le_bytes())
                .unwrap();
        assert!(file[isb..]
            .windows(2)
            .any(|w| w == ISB_IFDROP.to_le_bytes()));
        assert!(
            file.windows(7).any(|w| w == b"h1:eth0"),
            "the interface is named node:if"
        );
    }
}
