//! What this process may use: the container's CPU and memory limits (its cgroup),
//! not the host's, so the defaults fit a 1 vCPU / 1 GB replica instead of the
//! machine under it.
//!
//! CPUs come from [`std::thread::available_parallelism`], which already honours a
//! cgroup CPU quota. Memory is the smallest `memory.max` (cgroup v2) or
//! `memory.limit_in_bytes` (v1) on the way from this process's cgroup to the
//! root, and never more than the machine's `MemTotal`.

use std::path::Path;

/// The limits the defaults are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    pub cpus: usize,
    /// Bytes this process's cgroup may use, or the machine's memory; `None` when
    /// neither can be read.
    pub memory_bytes: Option<u64>,
}

/// Memory kept for the worker itself (its runtime, job texts, connections) before
/// any is given to extraction processes: a quarter, at least this much.
const MIN_RESERVE_MB: u64 = 256;
/// An extraction process gets at most this much address space by default...
pub const MAX_EXTRACT_MB: u64 = 2048;
/// ...and the default parallelism drops before a process would get less than this.
const MIN_EXTRACT_MB: u64 = 384;

impl Resources {
    pub fn detect() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let cgroup = std::fs::read_to_string("/proc/self/cgroup")
            .ok()
            .and_then(|own| cgroup_memory_limit(Path::new("/sys/fs/cgroup"), &own));
        let machine = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| mem_total(&m));
        let memory_bytes = match (cgroup, machine) {
            (Some(c), Some(m)) => Some(c.min(m)),
            (c, m) => c.or(m),
        };
        Self { cpus, memory_bytes }
    }

    /// Extraction processes that run at once, by default: one per CPU, fewer when
    /// memory cannot give each [`MIN_EXTRACT_MB`].
    pub fn default_extract_parallelism(&self) -> u64 {
        let cpus = self.cpus as u64;
        match self.extract_budget_mb() {
            Some(budget) => cpus.min(budget / MIN_EXTRACT_MB).max(1),
            None => cpus.max(1),
        }
    }

    /// Address-space limit per extraction process, by default: the memory left after
    /// the worker's own share, split between the processes that run at once.
    pub fn default_extract_memory_mb(&self, parallelism: u64) -> u64 {
        match self.extract_budget_mb() {
            Some(budget) => (budget / parallelism.max(1)).clamp(64, MAX_EXTRACT_MB),
            None => MAX_EXTRACT_MB,
        }
    }

    /// Memory extraction may use in all, in MiB.
    pub fn extract_budget_mb(&self) -> Option<u64> {
        let total = self.memory_bytes? / (1024 * 1024);
        Some(total.saturating_sub((total / 4).max(MIN_RESERVE_MB)))
    }
}

/// The tightest memory limit on the path from this process's cgroup (named in
/// `/proc/self/cgroup`, given as `own`) up to the root, under `root`.
fn cgroup_memory_limit(root: &Path, own: &str) -> Option<u64> {
    let mut limits = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        let (base, file) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max")
        } else if controllers.split(',').any(|c| c == "memory") {
            (root.join("memory"), "memory.limit_in_bytes")
        } else {
            continue;
        };
        let mut dir = base.join(path);
        loop {
            if let Some(limit) = read_limit(&dir.join(file)) {
                limits.push(limit);
            }
            if dir == base || !dir.pop() {
                break;
            }
        }
    }
    limits.into_iter().min()
}

/// A limit file's value; "max" and v1's "no limit" (a number near 2^63) are none.
fn read_limit(file: &Path) -> Option<u64> {
    let raw = std::fs::read_to_string(file).ok()?;
    let bytes: u64 = raw.trim().parse().ok()?;
    (bytes < (1 << 60)).then_some(bytes)
}

fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn a_one_cpu_one_gigabyte_replica_runs_one_extraction_within_its_memory() {
        let r = Resources {
            cpus: 1,
            memory_bytes: Some(GIB),
        };
        assert_eq!(r.default_extract_parallelism(), 1);
        let mb = r.default_extract_memory_mb(1);
        assert_eq!(mb, 768);
        assert!(mb * 1024 * 1024 < GIB);
    }

    #[test]
    fn many_cpus_with_little_memory_run_fewer_extractions() {
        let r = Resources {
            cpus: 8,
            memory_bytes: Some(2 * GIB),
        };
        let p = r.default_extract_parallelism();
        assert_eq!(p, 4);
        assert!(p * r.default_extract_memory_mb(p) <= 2048 - 512);
        let big = Resources {
            cpus: 2,
            memory_bytes: Some(64 * GIB),
        };
        assert_eq!(big.default_extract_parallelism(), 2);
        assert_eq!(big.default_extract_memory_mb(2), MAX_EXTRACT_MB);
        let unknown = Resources {
            cpus: 2,
            memory_bytes: None,
        };
        assert_eq!(unknown.default_extract_memory_mb(2), MAX_EXTRACT_MB);
    }

    #[test]
    fn the_tightest_cgroup_limit_on_the_path_counts() {
        let root = tempfile::tempdir().unwrap();
        let v2 = root.path().join("system.slice/app.service");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(root.path().join("system.slice/memory.max"), "1073741824\n").unwrap();
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        assert_eq!(
            cgroup_memory_limit(root.path(), "0::/system.slice/app.service\n"),
            Some(GIB)
        );
        // A container's own namespace: its cgroup is the root.
        std::fs::write(root.path().join("memory.max"), "536870912\n").unwrap();
        assert_eq!(cgroup_memory_limit(root.path(), "0::/\n"), Some(GIB / 2));

        let v1 = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(v1.path().join("memory/docker/abc")).unwrap();
        std::fs::write(
            v1.path().join("memory/docker/abc/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        std::fs::write(
            v1.path().join("memory/docker/memory.limit_in_bytes"),
            "2147483648",
        )
        .unwrap();
        assert_eq!(
            cgroup_memory_limit(
                v1.path(),
                "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n"
            ),
            Some(2 * GIB)
        );
        assert_eq!(cgroup_memory_limit(v1.path(), "4:pids:/x\n"), None);
    }

    #[test]
    fn meminfo_total_is_read_in_bytes() {
        assert_eq!(
            mem_total("MemTotal:       24563068 kB\nMemFree: 1 kB\n"),
            Some(24_563_068 * 1024)
        );
    }
}
