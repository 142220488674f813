//! The compact byte format of a [`MessageIndex`](crate::mail::MessageIndex)
//! (stored as a SQLite BLOB beside the message).
//!
//! Layout: magic `LBX` + version byte; three length-prefixed strings
//! (ENVELOPE, BODY, BODYSTRUCTURE); the part tree in pre-order; an
//! FNV-1a 64 checksum of everything before it. Integers are LEB128. A
//! node is: kind (0 leaf, 1 multipart, 2 message), header offset, body
//! offset minus header offset, end minus body offset, then for a
//! multipart the child count and the children, for a message its one
//! embedded message. Decoding checks every length, offset and count, so
//! corrupt input gives `None`, never a panic or a huge allocation.

use crate::mail::parser::MAX_DEPTH;
use crate::mail::section::{Node, NodeKind};

const MAGIC: &[u8; 4] = b"LBX\x01";

pub(crate) struct Decoded {
    pub envelope: Vec<u8>,
    pub body: Vec<u8>,
    pub body_structure: Vec<u8>,
    pub root: Node,
}

pub(crate) fn encode(envelope: &[u8], body: &[u8], body_structure: &[u8], root: &Node) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + envelope.len() + body.len() + body_structure.len());
    out.extend_from_slice(MAGIC);
    for s in [envelope, body, body_structure] {
        put(&mut out, s.len() as u64);
        out.extend_from_slice(s);
    }
    put_node(&mut out, root);
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Option<Decoded> {
    let split = bytes.len().checked_sub(8)?;
    let (payload, sum) = bytes.split_at(split);
    if u64::from_le_bytes(sum.try_into().ok()?) != fnv1a(payload) {
        return None;
    }
    let mut r = Reader {
        s: payload.strip_prefix(MAGIC)?,
    };
    let envelope = r.bytes()?.to_vec();
    let body = r.bytes()?.to_vec();
    let body_structure = r.bytes()?.to_vec();
    let root = r.node(0)?;
    if !r.s.is_empty() {
        return None;
    }
    Some(Decoded {
        envelope,
        body,
        body_structure,
        root,
    })
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_node(out: &mut Vec<u8>, n: &Node) {
    let kind = match n.kind {
        NodeKind::Leaf => 0,
        NodeKind::Multipart(_) => 1,
        NodeKind::Message(_) => 2,
    };
    out.push(kind);
    put(out, n.header as u64);
    put(out, n.body.saturating_sub(n.header) as u64);
    put(out, n.end.saturating_sub(n.body) as u64);
    match &n.kind {
        NodeKind::Leaf => {}
        NodeKind::Multipart(children) => {
            put(out, children.len() as u64);
            for c in children {
                put_node(out, c);
            }
        }
        NodeKind::Message(inner) => put_node(out, inner),
    }
}

fn fnv1a(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Reader<'a> {
    s: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.s.split_first()?;
        self.s = rest;
        Some(b)
    }

    fn int(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return None;
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.int()?).ok()
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.usize()?;
        if len > self.s.len() {
            return None;
        }
        let (head, rest) = self.s.split_at(len);
        self.s = rest;
        Some(head)
    }

    fn node(&mut self, depth: usize) -> Option<Node> {
        // The parser nests at most MAX_DEPTH containers, plus the leaf.
        if depth > MAX_DEPTH + 1 {
            return None;
        }
        let kind = self.byte()?;
        let header = self.usize()?;
        let body = header.checked_add(self.usize()?)?;
        let end = body.checked_add(self.usize()?)?;
        let kind = match kind {
            0 => NodeKind::Leaf,
            1 => {
                let count = self.usize()?;
                // Each child takes at least 4 bytes: bounds the allocation.
                if count == 0 || count > self.s.len() / 4 {
                    return None;
                }
                let mut children = Vec::with_capacity(count);
                for _ in 0..count {
                    children.push(self.node(depth + 1)?);
                }
                NodeKind::Multipart(children)
            }
            2 => NodeKind::Message(Box::new(self.node(depth + 1)?)),
            _ => return None,
        };
        Some(Node {
            header,
            body,
            end,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put(&mut out, v);
            let mut r = Reader { s: &out };
            assert_eq!(r.int(), Some(v));
            assert!(r.s.is_empty());
        }
        // Overlong / overflowing encodings are rejected.
        let mut r = Reader { s: &[0xff; 11] };
        assert_eq!(r.int(), None);
        let mut r = Reader {
            s: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        };
        assert_eq!(r.int(), None);
    }

    #[test]
    fn huge_counts_are_rejected_without_allocating() {
        let mut payload = MAGIC.to_vec();
        payload.extend_from_slice(&[0, 0, 0]); // three empty strings
        payload.push(1); // multipart
        payload.extend_from_slice(&[0, 0, 0]);
        put(&mut payload, u64::MAX >> 1); // absurd child count
        let sum = fnv1a(&payload);
        payload.extend_from_slice(&sum.to_le_bytes());
        assert!(decode(&payload).is_none());
    }
}
