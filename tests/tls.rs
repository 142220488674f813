//! TLS with every supported key type and with a certificate chain, over
//! real handshakes on the implicit-TLS port.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use letterbox::config::TlsConfig;

/// Starts a server with the given PEM files, logs in over TLS trusting
/// `trust`.
async fn login_with(cert: PathBuf, key: PathBuf, trust: &Path) {
    let server = TestServer::start_with(|c| c.tls = Some(TlsConfig { cert, key })).await;
    let mut client = Client::tls(server.imaps, trust).await;
    client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed (see .ci/run)");
    assert!(status.success(), "openssl {args:?}");
}

fn rcgen_pair(dir: &Path, alg: &'static rcgen::SignatureAlgorithm) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[tokio::test]
async fn ecdsa_and_ed25519_keys() {
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = rcgen_pair(dir.path(), alg);
        login_with(cert.clone(), key, &cert).await;
    }
}

#[tokio::test]
async fn rsa_pkcs8_pkcs1_and_sec1_ec_keys_from_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "rsa8.pem",
            "-out",
            "rsa.crt",
            "-days",
            "2",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    openssl(
        d,
        &["rsa", "-in", "rsa8.pem", "-out", "rsa1.pem", "-traditional"],
    );
    let pkcs1 = std::fs::read_to_string(d.join("rsa1.pem")).unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    login_with(d.join("rsa.crt"), d.join("rsa8.pem"), &d.join("rsa.crt")).await;
    login_with(d.join("rsa.crt"), d.join("rsa1.pem"), &d.join("rsa.crt")).await;

    openssl(
        d,
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "ec.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-key",
            "ec.pem",
            "-out",
            "ec.crt",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    assert!(
        std::fs::read_to_string(d.join("ec.pem"))
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----")
    );
    login_with(d.join("ec.crt"), d.join("ec.pem"), &d.join("ec.crt")).await;
}

#[tokio::test]
async fn chain_file_is_sent_so_clients_trusting_only_the_ca_connect() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "letterbox test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("fullchain.pem"),
        format!("{}{}", leaf.pem(), ca.pem()),
    )
    .unwrap();
    std::fs::write(d.join("privkey.pem"), leaf_key.serialize_pem()).unwrap();
    std::fs::write(d.join("ca.pem"), ca.pem()).unwrap();
    login_with(
        d.join("fullchain.pem"),
        d.join("privkey.pem"),
        &d.join("ca.pem"),
    )
    .await;
}

#[test]
fn mismatched_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = rcgen_pair(dir.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    let other = tempfile::tempdir().unwrap();
    let (_, key) = rcgen_pair(other.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    let result = letterbox::tls::load_server_config(&cert, &key);
    assert!(
        result.is_err(),
        "a key that does not match the certificate is refused"
    );
}

#[tokio::test]
async fn tls_1_2_works_and_1_1_is_refused() {
    use rustls_pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let server = TestServer::start().await;
    // A client that offers only TLS 1.2.
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(&server.cert_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.imaps).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let mut client = Client::over(Box::new(tls));
    assert!(client.line().await.starts_with("* OK [CAPABILITY"));

    // TLS 1.1 handshakes fail (openssl's client, which still speaks it).
    let port = server.imaps.port();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-tls1_1",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl is installed")
    })
    .await
    .unwrap();
    assert!(!output.status.success(), "TLS 1.1 must not be negotiated");
}
