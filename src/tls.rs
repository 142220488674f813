//! TLS: loading PEM certificates and keys into a rustls `ServerConfig`, and
//! the self-signed certificate of `serve --dev`.
//!
//! PEM is read with rustls-pki-types' own `PemObject` API: the separate
//! rustls-pemfile crate is deprecated in its favour.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read certificate file {path}: {message}")]
    Cert { path: String, message: String },
    #[error("cannot read private key file {path}: {message}")]
    Key { path: String, message: String },
    #[error("certificate and key do not form a usable TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot generate the development certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The TLS acceptor in use, replaceable while the server runs (SIGHUP
/// after a certificate renewal): new handshakes use the new certificate,
/// established sessions keep theirs.
pub struct ReloadableTls {
    files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    acceptor: std::sync::RwLock<Option<tokio_rustls::TlsAcceptor>>,
}

impl ReloadableTls {
    /// `files` are the (certificate, key) paths reload reads again.
    pub fn new(
        acceptor: Option<tokio_rustls::TlsAcceptor>,
        files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    ) -> ReloadableTls {
        ReloadableTls {
            files,
            acceptor: std::sync::RwLock::new(acceptor),
        }
    }

    pub fn acceptor(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.acceptor
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn configured(&self) -> bool {
        self.acceptor().is_some()
    }

    /// Reads the PEM files again; on any error the current certificate
    /// stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let Some((cert, key)) = &self.files else {
            return Ok(());
        };
        let config = load_server_config(cert, key)?;
        *self.acceptor.write().unwrap_or_else(|p| p.into_inner()) =
            Some(tokio_rustls::TlsAcceptor::from(config));
        Ok(())
    }
}

/// Builds the server configuration from a certificate chain file and a key
/// file. Only TLS 1.2 and 1.3 are offered.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_err = |message: String| TlsError::Cert {
        path: cert.display().to_string(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_err("no CERTIFICATE block found".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    Ok(Arc::new(config))
}

/// Creates a self-signed certificate for `localhost`/127.0.0.1 at the given
/// paths unless both files already exist. Returns true when it created them.
pub fn ensure_dev_certificate(cert: &Path, key: &Path) -> Result<bool, TlsError> {
    if cert.exists() && key.exists() {
        return Ok(false);
    }
    let (cert_pem, key_pem) = self_signed_localhost()?;
    write_file(cert, cert_pem.as_bytes(), false)?;
    write_file(key, key_pem.as_bytes(), true)?;
    Ok(true)
}

/// A fresh self-signed certificate for localhost, as (cert PEM, key PEM).
pub fn self_signed_localhost() -> Result<(String, String), TlsError> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)?;
    Ok((certified.cert.pem(), certified.key_pair.serialize_pem()))
}

fn write_file(path: &Path, data: &[u8], private: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let err = |source| TlsError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(err)?;
    file.write_all(data).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_certificate_loads_and_is_not_regenerated() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        assert!(ensure_dev_certificate(&cert, &key).unwrap());
        assert!(!ensure_dev_certificate(&cert, &key).unwrap());
        load_server_config(&cert, &key).unwrap();
    }

    #[test]
    fn missing_or_garbage_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, "not pem").unwrap();
        let err = load_server_config(&cert, &dir.path().join("none.pem")).unwrap_err();
        assert!(err.to_string().contains("c.pem"), "{err}");
    }
}
