//! Real IMAP clients against the real server: Python's imaplib and curl.

mod common;

use common::*;
use std::process::Command;

/// Runs `tests/clients/<script>` with python3 against the server's IMAPS
/// port (HOST PORT CAFILE USER PASSWORD, then `extra`), asserts it exits 0
/// and returns its stdout.
async fn run_python(server: &TestServer, script: &str, extra: &[&str]) -> String {
    let script = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("python3");
    command
        .args([
            script.as_str(),
            "localhost",
            &server.imaps.port().to_string(),
        ])
        .arg(&server.cert_path)
        .args([USER, PASSWORD])
        .args(extra);
    run_client(command).await
}

#[tokio::test]
async fn python_imaplib_over_imaps() {
    let server = TestServer::start().await;
    let stdout = run_python(&server, "imaplib_session.py", &[]).await;
    assert!(stdout.contains("imaplib session ok"), "{stdout}");
}

#[tokio::test]
async fn python_imaplib_reads_flags_searches_copies_and_deletes() {
    let server = TestServer::start().await;
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let corpus = if corpus.is_dir() {
        corpus.to_string_lossy().into_owned()
    } else {
        "-".to_string()
    };
    let stdout = run_python(&server, "imaplib_messages.py", &[&corpus]).await;
    assert!(stdout.contains("imaplib messages ok"), "{stdout}");
}

/// Runs curl as alice, trusting the run's certificate, with `args` before
/// the URL; asserts it succeeds and returns its stdout.
async fn run_curl(server: &TestServer, args: &[&str], url: String) -> String {
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--cacert"])
        .arg(&server.cert_path)
        .args(["--user", &format!("{USER}:{PASSWORD}")])
        .args(args)
        .arg(url);
    let output = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("curl is installed (the README lists it)")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn curl_lists_folders_over_imaps() {
    let server = TestServer::start().await;
    let url = format!("imaps://localhost:{}/", server.imaps.port());
    let stdout = run_curl(&server, &[], url).await;
    for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
        assert!(
            stdout.lines().any(|l| l.ends_with(&format!(" {name}"))),
            "{name}: {stdout}"
        );
    }
}

#[tokio::test]
async fn curl_starttls_login() {
    let server = TestServer::start().await;
    let url = format!("imap://localhost:{}/INBOX", server.imap.port());
    let args = ["--ssl-reqd", "--request", "STATUS INBOX (MESSAGES)"];
    let stdout = run_curl(&server, &args, url).await;
    assert!(stdout.contains("* STATUS INBOX (MESSAGES 0)"), "{stdout}");
}

#[tokio::test]
async fn compress_deflate_with_python_zlib() {
    let server = TestServer::start().await;
    let stdout = run_python(&server, "compress_session.py", &[]).await;
    assert!(stdout.contains("compress ok"), "{stdout}");
    eprintln!("{stdout}");
}
