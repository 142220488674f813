//! Which certificate of the old server to trust: one signed by the
//! system's CAs (the default), by the CAs of a PEM file (`--ca-file`), or
//! exactly one certificate named by its SHA-256 fingerprint
//! (`--tls-fingerprint`), for old servers with a self-signed certificate
//! (which webpki refuses as a CA even when given with `--ca-file`, when
//! it was made a CA, as `openssl req -x509` does by default).
//!
//! The fingerprint of the certificate the server presented is kept, so a
//! refused connection can say what to pass to trust it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    System,
    CaFile(PathBuf),
    Fingerprint([u8; 32]),
}

impl Trust {
    /// `AB:CD:...` (as `openssl x509 -fingerprint -sha256` prints it) or
    /// plain hex, any case.
    pub fn fingerprint(text: &str) -> Result<Trust, String> {
        let hex: String = text.chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 32];
        if hex.len() != 64 {
            return Err(format!("{text}: a SHA-256 fingerprint has 64 hex digits"));
        }
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| format!("{text}: not hex"))?;
        }
        Ok(Trust::Fingerprint(bytes))
    }
}

/// The verifier, and what the server presented.
#[derive(Debug)]
pub struct Verifier {
    trust: Trust,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    presented: Mutex<Option<String>>,
}

impl Verifier {
    pub fn new(trust: Trust) -> Result<Arc<Verifier>, String> {
        let roots = match &trust {
            Trust::System => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                Some(roots)
            }
            Trust::CaFile(path) => Some(ca_file(path)?),
            Trust::Fingerprint(_) => None,
        };
        let webpki = match roots {
            Some(roots) => Some(
                WebPkiServerVerifier::builder(Arc::new(roots))
                    .build()
                    .map_err(|e| format!("no usable CA certificates: {e}"))?,
            ),
            None => None,
        };
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        Ok(Arc::new(Verifier {
            trust,
            webpki,
            algorithms,
            presented: Mutex::new(None),
        }))
    }

    /// The fingerprint of the certificate the server presented last.
    pub fn presented(&self) -> Option<String> {
        self.presented
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn ca_file(path: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(roots)
}

/// `AB:CD:...`, the form `openssl x509 -fingerprint -sha256` prints.
pub fn show(fingerprint: &[u8]) -> String {
    fingerprint
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        *self.presented.lock().unwrap_or_else(|p| p.into_inner()) = Some(show(digest.as_ref()));
        match (&self.trust, &self.webpki) {
            (Trust::Fingerprint(expected), _) if expected[..] == *digest.as_ref() => {
                Ok(ServerCertVerified::assertion())
            }
            (Trust::Fingerprint(_), _) => Err(rustls::Error::General(
                "the certificate's fingerprint is not the one given with --tls-fingerprint".into(),
            )),
            (_, Some(webpki)) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            (_, None) => Err(rustls::Error::General("no trust anchors".into())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_with_or_without_colons() {
        let colons = "AB:".repeat(31) + "CD";
        let Trust::Fingerprint(bytes) = Trust::fingerprint(&colons).unwrap() else {
            panic!()
        };
        assert_eq!(bytes[0], 0xAB);
        assert_eq!(bytes[31], 0xCD);
        assert_eq!(show(&bytes), colons);
        let plain = "ab".repeat(32);
        assert!(Trust::fingerprint(&plain).is_ok());
        assert!(Trust::fingerprint("AB:CD").is_err());
        assert!(Trust::fingerprint(&"zz".repeat(32)).is_err());
    }
}
