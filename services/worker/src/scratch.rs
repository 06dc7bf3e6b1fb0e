//! The worker's scratch space in `WORK_DIR`.
//!
//! A job downloads its book into a temporary directory, removed when the job
//! ends. A worker killed mid-job (SIGKILL, out of memory) cannot remove it, and a
//! book can be hundreds of megabytes. So each worker process keeps its job
//! directories inside one directory of its own, `readme-worker-{name}/`, and holds
//! an exclusive lock on `readme-worker-{name}.lock` beside it for as long as it
//! lives (the kernel drops the lock when the process dies, however it dies). A
//! worker that starts removes every such directory whose lock it can take: its
//! owner is gone. A live worker's lock cannot be taken, so its files are never
//! touched, even by another worker sharing the same `WORK_DIR`.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = "readme-worker-";

/// This process's directory in `WORK_DIR`, locked; removed on drop (a clean stop).
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl Scratch {
    /// Remove what dead workers left in `root`, then claim a directory of this
    /// process's own there. `name` must be unique among live workers (the
    /// consumer name is).
    pub fn claim(root: &Path, name: &str) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let removed = remove_abandoned(root);
        if removed > 0 {
            tracing::info!(
                count = removed,
                "removed the scratch directories of workers that stopped without cleaning up"
            );
        }
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // The lock first, then the directory: a directory without its lock file
        // is always an abandoned one.
        let lock_path = root.join(format!("{PREFIX}{safe}.lock"));
        let lock = File::create(&lock_path)?;
        lock.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is held by another live worker", lock_path.display()),
            ),
        })?;
        let dir = root.join(format!("{PREFIX}{safe}"));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            lock_path,
            _lock: lock,
        })
    }

    /// Where this worker's jobs make their temporary directories.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Remove every worker directory (and lock file) in `root` whose lock nobody
/// holds. Returns how many directories went.
fn remove_abandoned(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(owner) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if owner.ends_with(".lock") || !entry.path().is_dir() {
            continue;
        }
        let lock_path = root.join(format!("{name}.lock"));
        // Opening (not creating) keeps a live owner's file as it is.
        let lock = match File::options().write(true).open(&lock_path) {
            Ok(lock) => Some(lock),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(_) => continue,
        };
        let free = match &lock {
            Some(lock) => lock.try_lock().is_ok(),
            None => true,
        };
        if !free {
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(dir = %entry.path().display(), error = %e, "cannot remove a dead worker's scratch directory");
                continue;
            }
        }
        if lock.is_some() {
            let _ = std::fs::remove_file(&lock_path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_workers_directory_goes_and_a_live_ones_stays() {
        let root = tempfile::tempdir().unwrap();
        let live = Scratch::claim(root.path(), "live-1").unwrap();
        std::fs::write(live.path().join("book.pdf"), b"live").unwrap();
        // A worker that died: its directory and an unlocked lock file.
        let dead = root.path().join("readme-worker-dead-2");
        std::fs::create_dir_all(dead.join("readme-job-x")).unwrap();
        std::fs::write(dead.join("readme-job-x/book.pdf"), b"dead").unwrap();
        std::fs::write(root.path().join("readme-worker-dead-2.lock"), b"").unwrap();
        // One that died between making its lock and its directory, or whose lock
        // file a reclaimer already removed.
        std::fs::create_dir_all(root.path().join("readme-worker-dead-3")).unwrap();
        // Something else in WORK_DIR.
        std::fs::write(root.path().join("other.txt"), b"keep").unwrap();

        let next = Scratch::claim(root.path(), "next-4").unwrap();
        assert!(!dead.exists());
        assert!(!root.path().join("readme-worker-dead-2.lock").exists());
        assert!(!root.path().join("readme-worker-dead-3").exists());
        assert_eq!(
            std::fs::read(live.path().join("book.pdf")).unwrap(),
            b"live"
        );
        assert!(root.path().join("other.txt").exists());
        // A clean stop removes its own.
        let live_dir = live.path().to_owned();
        drop(live);
        assert!(!live_dir.exists());
        assert!(next.path().exists());
    }

    #[test]
    fn two_workers_cannot_claim_the_same_name() {
        let root = tempfile::tempdir().unwrap();
        let _first = Scratch::claim(root.path(), "same").unwrap();
        let second = Scratch::claim(root.path(), "same").unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::AlreadyExists);
    }
}
