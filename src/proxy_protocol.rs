//! The PROXY protocol (HAProxy's, versions 1 and 2): a TCP balancer in
//! front of several nodes sends the client's address ahead of the
//! connection's own bytes. Read only from the networks a listener names
//! in `proxy_from`, so that per-address limits, allow/deny lists and
//! failed-login penalties count clients, not the balancer.
//!
//! Exactly the header is read, byte for byte, so that what follows (a TLS
//! handshake, IMAP) is left on the socket untouched.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// Version 2's signature; version 1 starts with `PROXY `.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 line, CRLF included (the specification's 107).
const V1_MAX: usize = 107;
/// The most address bytes a version 2 header may carry beyond the fixed
/// part (TLVs included); more is refused rather than read.
const V2_MAX: usize = 512;

#[derive(Debug, PartialEq, Eq)]
pub enum ProxyError {
    Io(String),
    Malformed(&'static str),
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyError::Io(e) => write!(f, "PROXY header: {e}"),
            ProxyError::Malformed(why) => write!(f, "PROXY header: {why}"),
        }
    }
}

impl From<std::io::Error> for ProxyError {
    fn from(e: std::io::Error) -> Self {
        ProxyError::Io(e.to_string())
    }
}

/// Reads the header and returns the client's address; `None` when the
/// header says the connection is the balancer's own (a health check:
/// version 1 `UNKNOWN`, version 2 `LOCAL`, or an address family other
/// than TCP over IPv4/IPv6), which then keeps the socket's peer address.
pub async fn read_header(
    stream: &mut (impl AsyncRead + Unpin),
) -> Result<Option<SocketAddr>, ProxyError> {
    let mut start = [0u8; 12];
    stream.read_exact(&mut start[..6]).await?;
    if &start[..6] == b"PROXY " {
        return read_v1(stream).await;
    }
    stream.read_exact(&mut start[6..]).await?;
    if start != V2_SIGNATURE {
        return Err(ProxyError::Malformed("neither version 1 nor 2"));
    }
    read_v2(stream).await
}

async fn read_v1(stream: &mut (impl AsyncRead + Unpin)) -> Result<Option<SocketAddr>, ProxyError> {
    let mut line = Vec::with_capacity(V1_MAX);
    line.extend_from_slice(b"PROXY ");
    while !line.ends_with(b"\r\n") {
        if line.len() >= V1_MAX {
            return Err(ProxyError::Malformed("version 1 line too long"));
        }
        line.push(stream.read_u8().await?);
    }
    parse_v1(&line[..line.len() - 2])
}

/// `PROXY TCP4 src dst sport dport` (or `TCP6`, or `UNKNOWN ...`).
fn parse_v1(line: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    let line = std::str::from_utf8(line).map_err(|_| ProxyError::Malformed("not ASCII"))?;
    let fields: Vec<&str> = line.split(' ').collect();
    match fields.get(1) {
        Some(&"UNKNOWN") => return Ok(None),
        Some(&"TCP4") | Some(&"TCP6") => {}
        _ => return Err(ProxyError::Malformed("unknown version 1 protocol")),
    }
    let [_, protocol, source, _destination, port, _destination_port] = fields[..] else {
        return Err(ProxyError::Malformed("version 1 needs six fields"));
    };
    let ip: IpAddr = source
        .parse()
        .map_err(|_| ProxyError::Malformed("bad source address"))?;
    if ip.is_ipv4() != (protocol == "TCP4") {
        return Err(ProxyError::Malformed("address of the wrong family"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| ProxyError::Malformed("bad source port"))?;
    Ok(Some(SocketAddr::new(ip, port)))
}

async fn read_v2(stream: &mut (impl AsyncRead + Unpin)) -> Result<Option<SocketAddr>, ProxyError> {
    let version_command = stream.read_u8().await?;
    let family = stream.read_u8().await?;
    let length = usize::from(stream.read_u16().await?);
    if version_command >> 4 != 2 {
        return Err(ProxyError::Malformed("version 2 header of another version"));
    }
    if length > V2_MAX {
        return Err(ProxyError::Malformed("version 2 addresses too long"));
    }
    let mut addresses = vec![0u8; length];
    stream.read_exact(&mut addresses).await?;
    match version_command & 0x0f {
        0 => Ok(None), // LOCAL: the balancer's own connection
        1 => parse_v2_addresses(family, &addresses),
        _ => Err(ProxyError::Malformed("unknown version 2 command")),
    }
}

/// The source of a PROXY command's address block.
fn parse_v2_addresses(family: u8, addresses: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    let short = ProxyError::Malformed("version 2 addresses cut short");
    match family {
        // TCP over IPv4: source, destination, source port, destination port.
        0x11 => {
            let block: &[u8; 12] = addresses
                .get(..12)
                .and_then(|b| b.try_into().ok())
                .ok_or(short)?;
            let ip = Ipv4Addr::new(block[0], block[1], block[2], block[3]);
            let port = u16::from_be_bytes([block[8], block[9]]);
            Ok(Some(SocketAddr::new(ip.into(), port)))
        }
        // TCP over IPv6.
        0x21 => {
            let block: &[u8; 36] = addresses
                .get(..36)
                .and_then(|b| b.try_into().ok())
                .ok_or(short)?;
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&block[..16]);
            let port = u16::from_be_bytes([block[32], block[33]]);
            Ok(Some(SocketAddr::new(Ipv6Addr::from(ip).into(), port)))
        }
        // UNSPEC, UDP, Unix sockets: nothing to count a client by.
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8]) -> (Result<Option<SocketAddr>, ProxyError>, Vec<u8>) {
        let mut stream = bytes;
        let header = read_header(&mut stream).await;
        (header, stream.to_vec())
    }

    #[tokio::test]
    async fn version_1_gives_the_source_and_leaves_the_rest() {
        let (header, rest) =
            read(b"PROXY TCP4 203.0.113.7 192.0.2.1 56324 993\r\n\x16\x03\x01").await;
        assert_eq!(header, Ok(Some("203.0.113.7:56324".parse().unwrap())));
        assert_eq!(rest, b"\x16\x03\x01");
        let (header, _) = read(b"PROXY TCP6 2001:db8::7 2001:db8::1 4000 143\r\n").await;
        assert_eq!(header, Ok(Some("[2001:db8::7]:4000".parse().unwrap())));
        let (header, rest) = read(b"PROXY UNKNOWN\r\na1 NOOP\r\n").await;
        assert_eq!((header, rest.as_slice()), (Ok(None), &b"a1 NOOP\r\n"[..]));
    }

    #[tokio::test]
    async fn version_2_gives_the_source_and_leaves_the_rest() {
        let mut header = V2_SIGNATURE.to_vec();
        header.extend([
            0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0, 143,
        ]);
        header.extend(b"a1 NOOP\r\n");
        let (source, rest) = read(&header).await;
        assert_eq!(source, Ok(Some("198.51.100.9:8080".parse().unwrap())));
        assert_eq!(rest, b"a1 NOOP\r\n");
        // LOCAL (a health check) keeps the socket's address.
        let mut local = V2_SIGNATURE.to_vec();
        local.extend([0x20, 0x00, 0, 0]);
        assert_eq!(read(&local).await.0, Ok(None));
    }

    #[tokio::test]
    async fn anything_else_is_refused() {
        for bad in [
            &b"a1 LOGIN alice secret\r\n"[..],
            b"PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",
            b"PROXY TCP4 2001:db8::7 192.0.2.1 1 2\r\n",
            b"PROXY TCP4 203.0.113.7 192.0.2.1 99999 993\r\n",
            b"PROXY SCTP 203.0.113.7 192.0.2.1 1 2\r\n",
            b"PROXY TCP4 203.0.113.7 192.0.2.1 56324 993 and on and on and on and on and on and on and on and on and on\r\n",
            b"PROXY TCP4 203.0.113.7",
        ] {
            assert!(read(bad).await.0.is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let mut long = V2_SIGNATURE.to_vec();
        long.extend([0x21, 0x11, 0xff, 0xff]);
        assert!(read(&long).await.0.is_err());
        let mut short = V2_SIGNATURE.to_vec();
        short.extend([0x21, 0x11, 0, 4, 1, 2, 3, 4]);
        assert!(read(&short).await.0.is_err());
    }
}
