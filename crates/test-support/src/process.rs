//! Running a service's real binary as a child process: for the tests of start-up,
//! configuration errors and SIGTERM.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub struct ServiceProcess {
    child: Child,
    pub health_url: String,
}

fn command(bin: &Path, vars: &[(String, String)]) -> Command {
    let mut cmd = Command::new(bin);
    // Only what we pass: a developer's own DATABASE_URL must not leak in.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

impl ServiceProcess {
    /// Start `bin` with exactly `vars` (plus PATH); `health_port` is where it serves `/health`.
    pub fn spawn(bin: &Path, vars: &[(String, String)], health_port: u16) -> Self {
        Self::spawn_with_stdout(bin, vars, health_port, Stdio::null())
    }

    /// As [`spawn`](Self::spawn), with the service's stdout (its logs) going to `log`.
    pub fn spawn_logging_to(
        bin: &Path,
        vars: &[(String, String)],
        health_port: u16,
        log: &Path,
    ) -> Self {
        let file = std::fs::File::create(log).expect("create the log file");
        Self::spawn_with_stdout(bin, vars, health_port, Stdio::from(file))
    }

    fn spawn_with_stdout(
        bin: &Path,
        vars: &[(String, String)],
        health_port: u16,
        stdout: Stdio,
    ) -> Self {
        let child = command(bin, vars)
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Self {
            child,
            health_url: format!("http://127.0.0.1:{health_port}/health"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the process now, from /proc (Linux).
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    pub async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(&self.health_url).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the service exited with {status} before becoming healthy");
            }
            assert!(
                Instant::now() < deadline,
                "{} not healthy within 30 s",
                self.health_url
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Has the process exited (and with what)?
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Send SIGTERM and wait (with a deadline) for the process to exit.
    pub async fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the service") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit within 30 s of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `bin` to completion with exactly `vars` (plus PATH) and `args`.
pub fn run_to_end(bin: &Path, args: &[&str], vars: &[(String, String)]) -> Output {
    command(bin, vars)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Every required variable, left out in turn, stops `bin` with exit code 2 and a
/// message on stderr that names it.
pub fn assert_each_missing_variable_is_named(
    bin: &Path,
    complete: &[(String, String)],
    required: &[&str],
) {
    for name in required {
        let vars: Vec<_> = complete
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect();
        let out = run_to_end(bin, &[], &vars);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "without {name}: {stderr}");
        assert!(
            stderr.contains(name),
            "without {name}, stderr does not name it: {stderr}"
        );
    }
}
