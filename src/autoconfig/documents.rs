//! The three documents mail clients fetch to set an account up, built from
//! the configuration: what a user types is their address and password.
//!
//! Users log in with their user name, which is the local part of their
//! address (`alice` for alice@example.org), so every document names the
//! local part as the login. No document depends on whether the address
//! exists: answers reveal nothing about accounts.

use std::fmt::Write;

use crate::config::{AutoconfigConfig, Config, SmtpSecurity};

/// An address a client asked about, checked to be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl Address {
    /// `local@domain` with the characters addresses use; `None` otherwise.
    pub fn parse(text: &str) -> Option<Address> {
        let (local, domain) = text.trim().rsplit_once('@')?;
        let valid = |s: &str, extra: &[char]| {
            !s.is_empty()
                && s.len() <= 254
                && s.chars()
                    .all(|c| c.is_alphanumeric() || "-.".contains(c) || extra.contains(&c))
        };
        (valid(
            local,
            &[
                '_', '+', '=', '\'', '!', '#', '$', '%', '&', '*', '/', '?', '^', '`', '{', '|',
                '}', '~',
            ],
        ) && valid(domain, &[]))
        .then(|| Address {
            local: local.to_owned(),
            domain: domain.to_ascii_lowercase(),
        })
    }

    fn text(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

/// The IMAP endpoints announced: implicit TLS first, as clients should
/// prefer it.
struct Endpoints {
    imaps: Option<u16>,
    imap: Option<u16>,
}

fn endpoints(config: &Config) -> Endpoints {
    // A configured port 0 (tests) announces the standard port.
    let port = |listen: &[std::net::SocketAddr], standard: u16| {
        listen
            .first()
            .map(|a| if a.port() == 0 { standard } else { a.port() })
    };
    Endpoints {
        imaps: port(&config.imaps.listen, 993),
        imap: port(&config.imap.listen, 143),
    }
}

/// The domain answered for when the client names no address (Thunderbird
/// for Android asks so): the first accepted domain, else the host's.
pub fn default_domain(config: &Config) -> String {
    config
        .delivery
        .domains
        .first()
        .cloned()
        .unwrap_or_else(|| host_domain(&config.autoconfig.imap_host))
}

fn host_domain(host: &str) -> String {
    match host.split_once('.') {
        Some((_, rest)) if rest.contains('.') => rest.to_owned(),
        _ => host.to_owned(),
    }
}

fn display_name(autoconfig: &AutoconfigConfig, domain: &str) -> String {
    if autoconfig.display_name.trim().is_empty() {
        domain.to_owned()
    } else {
        autoconfig.display_name.clone()
    }
}

/// XML character data and attribute values.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Thunderbird's autoconfig (`config-v1.1.xml`), for `domain`. The login
/// is `%EMAILLOCALPART%`, which Thunderbird fills in itself.
pub fn thunderbird(config: &Config, domain: &str) -> String {
    let a = &config.autoconfig;
    let host = xml(&a.imap_host);
    let mut incoming = String::new();
    let servers = [
        (endpoints(config).imaps, "SSL"),
        (endpoints(config).imap, "STARTTLS"),
    ];
    for (port, socket) in servers {
        let Some(port) = port else { continue };
        let _ = write!(
            incoming,
            "    <incomingServer type=\"imap\">\n      <hostname>{host}</hostname>\n      <port>{port}</port>\n      <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%EMAILLOCALPART%</username>\n    </incomingServer>\n"
        );
    }
    let outgoing = if a.smtp_host.trim().is_empty() {
        String::new()
    } else {
        let socket = match a.smtp_security {
            SmtpSecurity::Starttls => "STARTTLS",
            SmtpSecurity::Ssl => "SSL",
        };
        format!(
            "    <outgoingServer type=\"smtp\">\n      <hostname>{}</hostname>\n      <port>{}</port>\n      <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%EMAILLOCALPART%</username>\n    </outgoingServer>\n",
            xml(&a.smtp_host),
            a.smtp_port
        )
    };
    let name = xml(&display_name(a, domain));
    let domain = xml(domain);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    <displayName>{name}</displayName>\n    <displayShortName>{name}</displayShortName>\n{incoming}{outgoing}  </emailProvider>\n</clientConfig>\n"
    )
}

/// The address in an Outlook autodiscover request body
/// (`<EMailAddress>...</EMailAddress>`).
pub fn autodiscover_request_address(body: &[u8]) -> Option<Address> {
    let body = std::str::from_utf8(body).ok()?;
    let start = body.find("<EMailAddress>")? + "<EMailAddress>".len();
    let end = start + body[start..].find("</EMailAddress>")?;
    Address::parse(&body[start..end])
}

/// Outlook's autodiscover answer (POX, outlook response schema 2006a).
pub fn autodiscover(config: &Config, address: &Address) -> String {
    let a = &config.autoconfig;
    let login = xml(&address.local);
    let mut protocols = String::new();
    let servers = [
        (endpoints(config).imaps, "<SSL>on</SSL>"),
        (
            endpoints(config).imap,
            "<SSL>on</SSL>\n        <Encryption>TLS</Encryption>",
        ),
    ];
    for (port, security) in servers {
        let Some(port) = port else { continue };
        let _ = write!(
            protocols,
            "      <Protocol>\n        <Type>IMAP</Type>\n        <Server>{}</Server>\n        <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n        {security}\n        <AuthRequired>on</AuthRequired>\n      </Protocol>\n",
            xml(&a.imap_host)
        );
    }
    if !a.smtp_host.trim().is_empty() {
        let security = match a.smtp_security {
            SmtpSecurity::Starttls => "<SSL>on</SSL>\n        <Encryption>TLS</Encryption>",
            SmtpSecurity::Ssl => "<SSL>on</SSL>",
        };
        let _ = write!(
            protocols,
            "      <Protocol>\n        <Type>SMTP</Type>\n        <Server>{}</Server>\n        <Port>{}</Port>\n        <DomainRequired>off</DomainRequired>\n        <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n        {security}\n        <AuthRequired>on</AuthRequired>\n        <UsePOPAuth>on</UsePOPAuth>\n      </Protocol>\n",
            xml(&a.smtp_host),
            a.smtp_port
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    <User>\n      <DisplayName>{}</DisplayName>\n    </User>\n    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n{protocols}    </Account>\n  </Response>\n</Autodiscover>\n",
        xml(&address.text())
    )
}

/// An Apple configuration profile with one `com.apple.mail.managed`
/// payload, for iOS and macOS Mail. Unsigned: the device says so when it
/// is installed. The payload UUIDs derive from the address and host, so a
/// profile downloaded again replaces the installed one.
pub fn mobileconfig(config: &Config, address: &Address) -> String {
    let a = &config.autoconfig;
    let email = address.text();
    let ends = endpoints(config);
    // iOS takes one incoming server: implicit TLS when offered.
    let (port, ssl) = match (ends.imaps, ends.imap) {
        (Some(port), _) => (port, true),
        (None, Some(port)) => (port, true),
        (None, None) => (993, true),
    };
    let login = xml(&address.local);
    let name = xml(&display_name(a, &address.domain));
    let mut outgoing = String::new();
    if !a.smtp_host.trim().is_empty() {
        let _ = write!(
            outgoing,
            "      <key>OutgoingMailServerAuthentication</key>\n      <string>EmailAuthPassword</string>\n      <key>OutgoingMailServerHostName</key>\n      <string>{}</string>\n      <key>OutgoingMailServerPortNumber</key>\n      <integer>{}</integer>\n      <key>OutgoingMailServerUseSSL</key>\n      <true/>\n      <key>OutgoingMailServerUsername</key>\n      <string>{login}</string>\n      <key>OutgoingPasswordSameAsIncomingPassword</key>\n      <true/>\n",
            xml(&a.smtp_host),
            a.smtp_port
        );
    }
    let identifier = format!(
        "{}.letterbox.mail.{}",
        address
            .domain
            .split('.')
            .rev()
            .collect::<Vec<_>>()
            .join("."),
        address.local
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  <key>PayloadContent</key>\n  <array>\n    <dict>\n      <key>EmailAccountDescription</key>\n      <string>{name}</string>\n      <key>EmailAccountName</key>\n      <string>{login}</string>\n      <key>EmailAccountType</key>\n      <string>EmailTypeIMAP</string>\n      <key>EmailAddress</key>\n      <string>{}</string>\n      <key>IncomingMailServerAuthentication</key>\n      <string>EmailAuthPassword</string>\n      <key>IncomingMailServerHostName</key>\n      <string>{}</string>\n      <key>IncomingMailServerPortNumber</key>\n      <integer>{port}</integer>\n      <key>IncomingMailServerUseSSL</key>\n      <{ssl}/>\n      <key>IncomingMailServerUsername</key>\n      <string>{login}</string>\n{outgoing}      <key>PayloadDescription</key>\n      <string>Email account {}</string>\n      <key>PayloadDisplayName</key>\n      <string>{name}</string>\n      <key>PayloadIdentifier</key>\n      <string>{}.account</string>\n      <key>PayloadType</key>\n      <string>com.apple.mail.managed</string>\n      <key>PayloadUUID</key>\n      <string>{}</string>\n      <key>PayloadVersion</key>\n      <integer>1</integer>\n    </dict>\n  </array>\n  <key>PayloadDisplayName</key>\n  <string>{name}</string>\n  <key>PayloadIdentifier</key>\n  <string>{}</string>\n  <key>PayloadRemovalDisallowed</key>\n  <false/>\n  <key>PayloadType</key>\n  <string>Configuration</string>\n  <key>PayloadUUID</key>\n  <string>{}</string>\n  <key>PayloadVersion</key>\n  <integer>1</integer>\n</dict>\n</plist>\n",
        xml(&email),
        xml(&a.imap_host),
        xml(&email),
        xml(&identifier),
        uuid(&format!("{email} {} account", a.imap_host)),
        xml(&identifier),
        uuid(&format!("{email} {} profile", a.imap_host)),
    )
}

/// A UUID (version 5 layout) derived from `seed`.
fn uuid(seed: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            Address::parse(" Ann.Lee+x@Example.ORG "),
            Some(Address {
                local: "Ann.Lee+x".into(),
                domain: "example.org".into()
            })
        );
        for bad in [
            "",
            "ann",
            "@x.org",
            "ann@",
            "a<b>@x.org",
            "a@x y.org",
            "a@x\".org",
        ] {
            assert_eq!(Address::parse(bad), None, "{bad}");
        }
        assert_eq!(
            autodiscover_request_address(
                b"<Request><EMailAddress>bob@x.org</EMailAddress></Request>"
            ),
            Address::parse("bob@x.org")
        );
        assert_eq!(autodiscover_request_address(b"<Request/>"), None);
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let id = uuid("a");
        assert_eq!(id, uuid("a"));
        assert_ne!(id, uuid("b"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "5");
        assert_eq!(xml("a<&>\"'"), "a&lt;&amp;&gt;&quot;&apos;");
        assert_eq!(host_domain("mail.example.org"), "example.org");
        assert_eq!(host_domain("localhost"), "localhost");
    }
}
