//! The old server as given on the command line: `imaps://user@host[:port]`
//! (implicit TLS, port 993 by default) or `imap://user@host[:port]`
//! (STARTTLS, required, port 143). The user name may be percent-encoded
//! (`imaps://jo%40example.com@imap.example.com`). A password in the URL is
//! refused: it would show in `ps` and in shell histories.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Implicit,
    StartTls,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub security: Security,
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl Source {
    pub fn parse(url: &str) -> Result<Source, String> {
        let bad = |why: &str| format!("{url}: {why} (expected imaps://user@host[:port])");
        let (security, rest, default_port) = if let Some(rest) = url.strip_prefix("imaps://") {
            (Security::Implicit, rest, 993)
        } else if let Some(rest) = url.strip_prefix("imap://") {
            (Security::StartTls, rest, 143)
        } else {
            return Err(bad("unknown scheme"));
        };
        let rest = rest.trim_end_matches('/');
        let (user, host_port) = rest.rsplit_once('@').ok_or_else(|| bad("no user"))?;
        if user.contains(':') {
            return Err(bad(
                "give the password with --password-file, not in the URL",
            ));
        }
        let user = percent_decode(user).ok_or_else(|| bad("bad %-escape in the user"))?;
        let (host, port) = match host_port.strip_prefix('[') {
            // [IPv6]:port
            Some(bracketed) => {
                let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("bad host"))?;
                let port = match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None if after.is_empty() => None,
                    None => return Err(bad("bad host")),
                };
                (host, port)
            }
            None => match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            },
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| bad("bad port"))?,
            None => default_port,
        };
        if user.is_empty() || host.is_empty() || host.contains('/') {
            return Err(bad("user and host are needed"));
        }
        Ok(Source {
            security,
            user,
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.security {
            Security::Implicit => "imaps",
            Security::StartTls => "imap",
        };
        write!(f, "{scheme}://{}@{}:{}", self.user, self.host, self.port)
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (Security, String, String, u16) {
        let s = Source::parse(url).unwrap_or_else(|e| panic!("{e}"));
        (s.security, s.user, s.host, s.port)
    }

    #[test]
    fn urls() {
        assert_eq!(
            parsed("imaps://alice@mail.example.com"),
            (
                Security::Implicit,
                "alice".into(),
                "mail.example.com".into(),
                993
            )
        );
        assert_eq!(
            parsed("imap://bob@127.0.0.1:1143/"),
            (Security::StartTls, "bob".into(), "127.0.0.1".into(), 1143)
        );
        assert_eq!(
            parsed("imaps://jo%40example.com@imap.gmail.com"),
            (
                Security::Implicit,
                "jo@example.com".into(),
                "imap.gmail.com".into(),
                993
            )
        );
        assert_eq!(
            parsed("imaps://jo@example.com@[::1]:9993"),
            (
                Security::Implicit,
                "jo@example.com".into(),
                "::1".into(),
                9993
            )
        );
    }

    #[test]
    fn bad_urls() {
        for url in [
            "pop3://a@b",
            "imaps://mail.example.com",
            "imaps://a:secret@mail.example.com",
            "imaps://a@b:99999",
            "imaps://a@b:x",
            "imaps://%zz@b",
            "imaps://@b",
            "imaps://a@",
            "imaps://a@b/INBOX",
        ] {
            assert!(Source::parse(url).is_err(), "{url}");
        }
    }
}
