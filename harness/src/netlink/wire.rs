//! Netlink framing by hand, for what the rtnetlink crate does not speak (nexthop
//! objects, nfnetlink_log, the extended-ack text): attributes out, messages and
//! attributes in. Malformed input ends the iteration; it never panics.

/// One attribute: length, type, value, padded to 4 bytes.
pub(crate) fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut a = Vec::with_capacity(len.next_multiple_of(4));
    a.extend_from_slice(&(len as u16).to_ne_bytes());
    a.extend_from_slice(&kind.to_ne_bytes());
    a.extend_from_slice(value);
    a.resize(len.next_multiple_of(4), 0);
    a
}

/// (type, sequence, payload after the 16-byte header) of each message in a datagram.
pub(crate) fn messages(buf: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < 16 || len > rest.len() {
            break;
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        let seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        out.push((kind, seq, &rest[16..len]));
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    out
}

/// (type without the nested/byte-order bits, value) of each attribute in `body`.
pub(crate) fn attrs(body: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        let value = &rest[4..len];
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
        Some((kind, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_and_bad_lengths_stop_the_walk() {
        let mut body = attr(1, &[7, 0, 0, 0]);
        body.extend(attr(3, b"ab"));
        let got: Vec<_> = attrs(&body).collect();
        assert_eq!(got, vec![(1, &[7, 0, 0, 0][..]), (3, &b"ab"[..])]);
        body.extend_from_slice(&[200, 0, 1, 0]);
        assert_eq!(attrs(&body).count(), 2, "a length past the end ends it");
        let mut msg = 20u32.to_ne_bytes().to_vec();
        msg.extend_from_slice(&[2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(messages(&msg), vec![(2, 9, &[1, 2, 3, 4][..])]);
        assert!(messages(&msg[..10]).is_empty());
    }
}
