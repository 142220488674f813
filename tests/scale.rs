//! Scale benchmark (ignored by default; run with
//! `cargo test --release --test scale -- --ignored --nocapture`):
//! N concurrent IDLE sessions over TLS against the real `letterbox`
//! binary, one delivery, every session notified. Prints the server's RSS
//! per idle session and the notification latency. N comes from
//! `SCALE_SESSIONS` (default 2000).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run explicitly"]
async fn thousands_of_idle_sessions_all_notified() {
    let sessions: usize = std::env::var("SCALE_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    letterbox::tls::ensure_dev_certificate(&cert, &key).unwrap();
    let port = free_port();
    let config = dir.path().join("letterbox.toml");
    std::fs::write(
        &config,
        common::binary::with_test_store(&format!(
            "data_dir = {:?}\n[imaps]\nlisten = [\"127.0.0.1:{port}\"]\n[tls]\ncert = {cert:?}\nkey = {key:?}\n\
             [limits]\nmax_connections_per_ip = 100000\nmax_connections_per_user = 100000\n[store]\nsynchronous = \"normal\"\n[log]\nlevel = \"warn\"\n",
            dir.path().join("data")
        )),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_letterbox");
    let add = run_with_stdin(
        Command::new(bin)
            .args(["--config"])
            .arg(&config)
            .args(["user", "add", USER]),
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(add.status.success(), "{add:?}");
    let mut server = Command::new(bin)
        .args(["--config"])
        .arg(&config)
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let baseline = rss_kib(server.id());

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(sessions);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Instant>(sessions);
    let login_started = Instant::now();
    // Logins queue on the server's argon2 threads; like real clients
    // reconnecting, at most 32 are in flight at once.
    let logins = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    for _ in 0..sessions {
        let (cert, ready, done) = (cert.clone(), ready_tx.clone(), done_tx.clone());
        let logins = logins.clone();
        tokio::spawn(async move {
            let permit = logins.acquire_owned().await.unwrap();
            let mut client = Client::tls(addr, &cert).await;
            client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
            client.ok("SELECT INBOX").await;
            drop(permit);
            client.send(b"i IDLE\r\n").await;
            assert_eq!(client.line().await, "+ idling");
            ready.send(()).await.unwrap();
            let line = client.line_within(Duration::from_secs(600)).await;
            assert!(line.ends_with("EXISTS"), "{line}");
            done.send(Instant::now()).await.unwrap();
            // Keep the connection open until the test ends.
            std::future::pending::<()>().await;
        });
    }
    for _ in 0..sessions {
        ready_rx.recv().await.unwrap();
    }
    let logins = login_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = rss_kib(server.id());

    let mut sender = Client::tls(addr, &cert).await;
    sender.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    let message = "Subject: wake up\r\n\r\nx\r\n";
    let sent = Instant::now();
    sender
        .ok(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()))
        .await;
    let mut latencies = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        latencies.push(done_rx.recv().await.unwrap().duration_since(sent));
    }
    latencies.sort();
    let per_session = (loaded.saturating_sub(baseline)) as f64 / sessions as f64;
    eprintln!(
        "{sessions} IDLE sessions (TLS): logins+SELECT+IDLE took {logins:?}; server RSS {baseline} KiB idle -> {loaded} KiB \
         ({per_session:.1} KiB per session); notification after APPEND: p50 {:?}, p99 {:?}, max {:?}",
        latencies[sessions / 2],
        latencies[sessions * 99 / 100],
        latencies[sessions - 1]
    );
    let _ = server.kill();
    let _ = server.wait();
}
