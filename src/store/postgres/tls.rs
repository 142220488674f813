//! TLS to the database: used when the server offers it (`sslmode=prefer`,
//! the default) or always (`sslmode=require`), with the server's
//! certificate verified against `[store] ca_file` or the system's trusted
//! certificates. Unlike libpq's `require`, an unverified certificate is
//! never accepted: the mail passes through this connection.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls;

use crate::store::{StoreError, StoreResult};

/// The connector every connection of the store uses.
pub fn connector(ca_file: Option<&Path>) -> StoreResult<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    StoreError::Refused(format!("store.ca_file {}: {e}", path.display()))
                })?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(StoreError::Refused(format!(
                    "store.ca_file {}: no certificate in it",
                    path.display()
                )));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
