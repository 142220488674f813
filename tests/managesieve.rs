//! ManageSieve (RFC 5804) over real sockets: a raw transcript of every
//! command and the error cases, then real clients (sieve-connect from
//! Debian, Python's managesieve) uploading, listing, activating and
//! fetching a script that then filters an LMTP delivery.

mod common;

use std::process::Command;

use common::*;

async fn sieve_server() -> TestServer {
    TestServer::start_with(|c| {
        c.managesieve.listen = vec!["127.0.0.1:0".parse().unwrap()];
    })
    .await
}

/// Lines up to and including the next OK, NO or BYE.
async fn until_done(client: &mut Client) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = client.line().await;
        let done = ["OK", "NO", "BYE"]
            .iter()
            .any(|s| line == *s || line.starts_with(&format!("{s} ")));
        lines.push(line);
        if done {
            return lines;
        }
    }
}

async fn command(client: &mut Client, text: &str) -> Vec<String> {
    client.send(format!("{text}\r\n").as_bytes()).await;
    until_done(client).await
}

fn last(lines: &[String]) -> &str {
    lines.last().unwrap()
}

/// Connects, reads the capabilities, upgrades with STARTTLS.
async fn connect_tls(server: &TestServer) -> (Client, Vec<String>) {
    let tcp = tokio::net::TcpStream::connect(server.managesieve.unwrap())
        .await
        .unwrap();
    let mut client = Client::over(Box::new(tcp));
    let greeting = until_done(&mut client).await;
    assert!(
        greeting.contains(&"\"STARTTLS\"".to_owned()),
        "{greeting:?}"
    );
    assert_eq!(
        last(&command(&mut client, "STARTTLS").await),
        "OK \"Begin TLS negotiation now\""
    );
    let mut client = client.start_tls(&server.cert_path).await;
    // RFC 5804 §2.2: the capabilities again after the handshake.
    let capabilities = until_done(&mut client).await;
    (client, capabilities)
}

fn plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[tokio::test]
async fn every_command_and_its_errors() {
    let server = sieve_server().await;
    let tcp = tokio::net::TcpStream::connect(server.managesieve.unwrap())
        .await
        .unwrap();
    let mut clear = Client::over(Box::new(tcp));
    let greeting = until_done(&mut clear).await;
    assert_eq!(greeting[0], "\"IMPLEMENTATION\" \"letterbox\"");
    assert_eq!(greeting[1], "\"SASL\" \"\"", "no PLAIN before TLS");
    assert!(
        greeting[2].starts_with("\"SIEVE\" \"fileinto envelope"),
        "{greeting:?}"
    );
    assert!(greeting.contains(&"\"VERSION\" \"1.0\"".to_owned()));
    let refused = command(
        &mut clear,
        &format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, PASSWORD)),
    )
    .await;
    assert_eq!(last(&refused), "NO (ENCRYPT-NEEDED) \"Use STARTTLS first\"");
    assert_eq!(
        last(&command(&mut clear, "LISTSCRIPTS").await),
        "NO \"Log in first (AUTHENTICATE)\""
    );
    // Before login, many small literals add up to a refusal too, read
    // past rather than kept; the session goes on.
    let chunk = "x".repeat(4000);
    let mut flood = "NOOP {4000+}\r\n".to_owned();
    for _ in 0..6 {
        flood.push_str(&format!("{chunk} {{4000+}}\r\n"));
    }
    flood.push_str(&format!("{chunk}\r\n"));
    clear.send(flood.as_bytes()).await;
    assert_eq!(
        last(&until_done(&mut clear).await),
        "NO (QUOTA/MAXSIZE) \"Command larger than the 16384 octets allowed\""
    );
    assert_eq!(last(&command(&mut clear, "NOOP").await), "OK \"Done\"");
    drop(clear);

    let (mut client, capabilities) = connect_tls(&server).await;
    assert!(
        capabilities.contains(&"\"SASL\" \"PLAIN\"".to_owned()),
        "{capabilities:?}"
    );
    assert!(!capabilities.iter().any(|l| l.contains("STARTTLS")));
    let wrong = command(
        &mut client,
        &format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, "wrong")),
    )
    .await;
    assert_eq!(last(&wrong), "NO \"Authentication failed\"");
    // Without an initial response: an empty challenge, the answer as a literal.
    client.send(b"AUTHENTICATE \"PLAIN\"\r\n").await;
    assert_eq!(client.line().await, "\"\"");
    let answer = plain(USER, PASSWORD);
    client
        .send(format!("{{{}+}}\r\n{answer}\r\n", answer.len()).as_bytes())
        .await;
    assert_eq!(last(&until_done(&mut client).await), "OK \"Logged in\"");

    assert_eq!(
        command(&mut client, "LISTSCRIPTS").await,
        ["OK \"Listscripts completed\""]
    );
    let bad = "require \"fileinto\";\r\nfileinto :copy \"x\";\r\n";
    let put = command(
        &mut client,
        &format!("PUTSCRIPT \"bad\" {{{}+}}\r\n{bad}", bad.len()),
    )
    .await;
    assert_eq!(
        last(&put),
        "NO \"bad: line 2: :copy needs require \\\"copy\\\"\""
    );
    let script = "require \"fileinto\";\r\nif header :contains \"subject\" \"[x]\" { fileinto \"Archive\"; }\r\n";
    for name in ["main", "other"] {
        let put = command(
            &mut client,
            &format!("PUTSCRIPT \"{name}\" {{{}+}}\r\n{script}", script.len()),
        )
        .await;
        assert_eq!(last(&put), "OK \"Putscript completed\"");
    }
    assert_eq!(
        last(&command(&mut client, "SETACTIVE \"main\"").await),
        "OK \"Active script set\""
    );
    assert_eq!(
        command(&mut client, "LISTSCRIPTS").await,
        [
            "\"main\" ACTIVE",
            "\"other\"",
            "OK \"Listscripts completed\""
        ]
    );
    let got = command(&mut client, "GETSCRIPT \"main\"").await;
    // The test client reads the literal into its line.
    assert_eq!(
        got,
        [
            format!("{{{}}}\r\n{script}", script.len()),
            "OK \"Getscript completed\"".into()
        ]
    );
    assert_eq!(
        last(&command(&mut client, "GETSCRIPT \"nope\"").await),
        "NO (NONEXISTENT) \"There is no script by that name\""
    );
    assert_eq!(
        last(&command(&mut client, "DELETESCRIPT \"main\"").await),
        "NO (ACTIVE) \"You may not delete the active script\""
    );
    assert_eq!(
        last(&command(&mut client, "RENAMESCRIPT \"other\" \"main\"").await),
        "NO (ALREADYEXISTS) \"A script by that name exists\""
    );
    assert_eq!(
        last(&command(&mut client, "RENAMESCRIPT \"other\" \"spare\"").await),
        "OK \"Script renamed\""
    );
    assert_eq!(
        last(&command(&mut client, "DELETESCRIPT \"spare\"").await),
        "OK \"Script deleted\""
    );
    assert_eq!(
        last(&command(&mut client, "HAVESPACE \"x\" 1000").await),
        "OK \"Putscript would succeed\""
    );
    assert_eq!(
        last(&command(&mut client, "HAVESPACE \"x\" 999999999").await),
        "NO (QUOTA/MAXSIZE) \"Scripts may have at most 65536 octets\""
    );
    let check = command(&mut client, "CHECKSCRIPT \"if true { frob; }\"").await;
    assert_eq!(
        last(&check),
        "NO \"script: line 1: unknown command \\\"frob\\\"\""
    );
    assert_eq!(
        last(&command(&mut client, "CHECKSCRIPT \"keep;\"").await),
        "OK \"Script is valid\""
    );
    assert_eq!(
        last(&command(&mut client, "NOOP \"t1\"").await),
        "OK (TAG \"t1\") \"Done\""
    );

    // Malformed input gets a NO and the session goes on.
    for bad in [
        "FROB",
        "GETSCRIPT main",
        "PUTSCRIPT \"x\"",
        "GETSCRIPT \"x",
        "{5+} x",
        "\"x\"",
        "LOGOUT now",
    ] {
        let answer = command(&mut client, bad).await;
        assert!(last(&answer).starts_with("NO "), "{bad}: {answer:?}");
    }
    // A literal over the limit is read past, not kept, and refused.
    let huge = 70_000;
    client
        .send(format!("PUTSCRIPT \"huge\" {{{huge}+}}\r\n").as_bytes())
        .await;
    client.send(&vec![b'#'; huge]).await;
    client.send(b"\r\n").await;
    assert_eq!(
        last(&until_done(&mut client).await),
        "NO (QUOTA/MAXSIZE) \"Larger than the 65536 octets allowed\""
    );
    assert_eq!(last(&command(&mut client, "NOOP").await), "OK \"Done\"");
    // Everything went to the store: the script filters delivery.
    let alice = blocking(|| server.store.find_user(USER).unwrap().unwrap());
    assert_eq!(
        blocking(|| server
            .store
            .active_sieve_script(alice.id)
            .unwrap()
            .unwrap()
            .1),
        script
    );
    assert_eq!(
        last(&command(&mut client, "SETACTIVE \"\"").await),
        "OK \"Active script set\""
    );
    assert_eq!(
        blocking(|| server.store.active_sieve_script(alice.id).unwrap()),
        None
    );
    assert_eq!(
        last(&command(&mut client, "UNAUTHENTICATE").await),
        "OK \"Logged out, log in again\""
    );
    assert_eq!(
        last(&command(&mut client, "LISTSCRIPTS").await),
        "NO \"Log in first (AUTHENTICATE)\""
    );
    assert_eq!(
        last(&command(&mut client, "LOGOUT").await),
        "OK \"Logout completed\""
    );
}

/// sieve-connect (Debian) over STARTTLS with certificate checking, then
/// Python's managesieve module, against the same server.
#[tokio::test]
async fn sieve_connect_and_python_managesieve_manage_scripts() {
    if Command::new("sieve-connect")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: sieve-connect is not installed (apt-get install sieve-connect)");
        return;
    }
    let server = sieve_server().await;
    let port = server.managesieve.unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("vacation.sieve");
    std::fs::write(&script, "require \"fileinto\";\nif header :contains \"subject\" \"news\" { fileinto \"Archive\"; }\n").unwrap();
    let cert = server.cert_path.clone();
    let run = move |args: &[&str]| {
        let mut command = Command::new("sh");
        let joined = args
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        command.args([
            "-c",
            &format!(
                "echo '{PASSWORD}' | sieve-connect --server localhost --port {port} --user {USER} \
                 --passwordfd 0 --tlscafile '{}' {joined}",
                cert.display()
            ),
        ]);
        let output = command.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };
    let local = script.to_str().unwrap().to_owned();
    let (ok, text) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(&[
                "--upload",
                "--localsieve",
                &local,
                "--remotesieve",
                "filters",
            ])
        }
    })
    .await
    .unwrap();
    assert!(ok, "upload: {text}");
    let (ok, text) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["--activate", "--remotesieve", "filters"])
    })
    .await
    .unwrap();
    assert!(ok, "activate: {text}");
    let (ok, text) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["--list"])
    })
    .await
    .unwrap();
    assert!(ok && text.contains("\"filters\" ACTIVE"), "list: {text}");
    let alice = blocking(|| server.store.find_user(USER).unwrap().unwrap());
    let (name, stored) = blocking(|| server.store.active_sieve_script(alice.id).unwrap().unwrap());
    assert_eq!(
        (name.as_str(), stored),
        ("filters", std::fs::read_to_string(&script).unwrap())
    );

    // Python's managesieve: list, get, put a second one, delete it.
    let python = format!(
        r#"
import managesieve
m = managesieve.MANAGESIEVE("localhost", {port}, use_tls=True)
assert m.login("", "{USER}", "{PASSWORD}") == "OK", "login"
status, scripts = m.listscripts()
assert status == "OK" and scripts == [("filters", True)], (status, scripts)
status, text = m.getscript("filters")
assert status == "OK" and "fileinto" in text, (status, text)
assert m.putscript("spare", "keep;\r\n") == "OK"
assert m.putscript("broken", "if {{") == "NO"
assert m.deletescript("spare") == "OK"
status, scripts = m.listscripts()
assert scripts == [("filters", True)], scripts
m.logout()
print("python ok")
"#
    );
    // The module verifies the certificate against the default store,
    // which SSL_CERT_FILE points at the run's certificate.
    let mut command = Command::new("python3");
    command
        .args(["-c", &python])
        .env("SSL_CERT_FILE", &server.cert_path);
    let output = client_output(command).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if text.contains("No module named 'managesieve'") {
        eprintln!("skipped the Python part: pip install managesieve");
        return;
    }
    assert!(
        output.status.success() && text.contains("python ok"),
        "{text}"
    );
}
