//! The database, mail with its links and the JWT key hold secrets: what Qifu creates for them
//! is the owner's alone (folders 0700, files 0600). SQLite gives the WAL and shared-memory files
//! the database file's mode, so a private database file keeps them private too. Folders that
//! already exist are left as the operator made them.

use std::io;
use std::path::Path;

/// Creates `path` (and missing parents) if it does not exist; the folders created are private.
pub fn private_dir(path: &Path) -> io::Result<()> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Creates an empty private file at `path` unless one exists.
pub fn private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `contents` to a private file, replacing what was there.
pub fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_folders_and_files_are_the_owners_alone() {
        let root = std::env::temp_dir().join(format!("qifu-files-{}", std::process::id()));
        let dir = root.join("data/mail");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.join("data")), 0o700);
        let file = dir.join("qifu.db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        write_private(&dir.join("secret"), "s").unwrap();
        assert_eq!(mode(&dir.join("secret")), 0o600);
        private_file(&file).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
