//! Binding Unix sockets (LMTP, the control socket) with their mode set
//! before anybody can connect.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::UnixListener;

/// Binds a listening socket at `path` with permissions `mode`, replacing a
/// socket left by an earlier run but nothing else. The socket is bound in
/// a private directory, given its mode, then moved into place, so that
/// there is no moment at which it is open to more than `mode` allows.
pub fn bind(path: &Path, mode: u32) -> io::Result<UnixListener> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "something other than a socket is there; not replacing it",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let private = dir.join(format!(
        ".letterbox-bind-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&private)?;
    let staged = private.join("socket");
    let bound = UnixListener::bind(&staged).and_then(|listener| {
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&staged, path)?;
        Ok(listener)
    });
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&private);
    bound
}

/// A number not handed out before in this process.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_with_its_mode_and_replaces_only_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/control.sock");
        let first = bind(&path, 0o600).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        drop(first);
        // A socket left by an earlier run is replaced.
        let _second = bind(&path, 0o666).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o666);
        assert!(tokio::net::UnixStream::connect(&path).await.is_ok());
        // A regular file is not.
        let file = dir.path().join("precious");
        std::fs::write(&file, b"keep me").unwrap();
        assert!(bind(&file, 0o600).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
        // No staging directory is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("control.sock")]);
    }
}
