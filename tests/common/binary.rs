//! Driving the real `letterbox` binary: commands, configs, ports.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_letterbox");

pub fn letterbox(config: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(config)
        .env_remove("LETTERBOX_CONFIG");
    command
}

/// A loopback port nothing listens on right now, for configs that must
/// name their port before the server starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Replaces `from` with `to` in the config file at `path`.
pub fn rewrite(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// A valid config in `dir` with a fresh certificate; returns its path.
/// On the PostgreSQL pass it names a new database of its own.
pub fn write_config(dir: &Path, file: &str, extra: &str) -> std::path::PathBuf {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    letterbox::tls::ensure_dev_certificate(&cert, &key).unwrap();
    let path = dir.join(file);
    let extra = &with_test_store(extra);
    let text = format!(
        "data_dir = {:?}\n[imaps]\nlisten = [\"127.0.0.1:0\"]\n[tls]\ncert = {:?}\nkey = {:?}\n{extra}",
        dir.join("data"),
        cert,
        key
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `config` (TOML text) with the `[store]` keys of the PostgreSQL pass
/// added; unchanged on the SQLite pass. The database outlives the test
/// (the binary's processes may still use it; the test cluster is thrown
/// away after the run).
pub fn with_test_store(config: &str) -> String {
    let mut parsed = letterbox::config::Config::dev();
    // A config that names its own database (the multi-node tests) keeps it.
    if config.contains("backend = \"postgres\"") {
        return config.to_owned();
    }
    let Some(database) = super::use_test_backend(&mut parsed) else {
        return config.to_owned();
    };
    let keys = format!("backend = \"postgres\"\nurl = {:?}\n", database.url);
    std::mem::forget(database);
    match config.contains("[store]\n") {
        true => config.replacen("[store]\n", &format!("[store]\n{keys}"), 1),
        false => format!("{config}\n[store]\n{keys}"),
    }
}

/// The store a config file names, opened as the binary would open it.
pub fn open_store(config: &Path) -> std::sync::Arc<dyn letterbox::store::MailStore> {
    let config = letterbox::config::Config::load(config).unwrap();
    super::blocking(|| config.open_store().unwrap().mail())
}

pub fn run_with_stdin(mut command: Command, stdin: &str) -> std::process::Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Creates a user with the binary's `user add`, the password on stdin.
pub fn add_user(config: &Path, name: &str, password: &str) {
    let mut add = letterbox(config);
    add.args(["user", "add", name]);
    let output = run_with_stdin(add, &format!("{password}\n"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until something accepts connections on `port` (a server child
/// starting up).
pub async fn wait_for_port(port: u16) {
    let started = std::time::Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "server listens on {port}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Starts `letterbox serve` with `config` and waits until it listens on
/// `port`. Its output is discarded.
pub async fn serve(config: &Path, port: u16) -> std::process::Child {
    let child = letterbox(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port).await;
    child
}
