//! `readme-bench`: load clients behind `scripts/bench`. Each prints a table of
//! figures; none asserts a target (targets live in the issues, figures here).
//!
//!   readme-bench gateway --gateway-bin PATH [--requests N] [--concurrency C] [--rate PER_SEC] [--upstream-ms MS]
//!   readme-bench upload --api URL --token T --pid API_PID --storage DIR --size-mib N --concurrency C
//!                       [--label NAME] [--record FILE.tsv] [--header 1]
//!   readme-bench upload-ratios --record FILE.tsv   (ours ÷ every other stack, per row)
//!   readme-bench rss PROGRAM [ARGS…]   (runs PROGRAM, prints its peak RSS in KiB)
//!   readme-bench listening --corpus DIR --worker-bin PATH --peer-python PATH --peer-script PATH [--only a.pdf,b.pdf] [--missing N]

// Printing figures is this tool's whole job.
#![allow(clippy::print_stdout)]

mod fake_upstream;
mod gateway;
mod listening;
mod pipeline;
mod queue;
mod stats;
mod upload;

use std::collections::HashMap;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    if command == "rss" {
        return rss(&args.collect::<Vec<_>>());
    }
    let mut flags = HashMap::new();
    while let Some(flag) = args.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| anyhow::anyhow!("unexpected argument {flag:?}"))?
            .to_owned();
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("--{name} needs a value"))?;
        flags.insert(name, value);
    }
    let flag = |name: &str| {
        flags
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("missing --{name}"))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match command.as_str() {
        "upload" => runtime.block_on(upload::run(upload::Options {
            api: flag("api")?,
            token: flag("token")?,
            pid: flag("pid")?.parse()?,
            storage: flag("storage")?.into(),
            size_mib: flag("size-mib")?.parse()?,
            concurrency: flag("concurrency")?.parse()?,
            header: flags.contains_key("header"),
            label: flags
                .get("label")
                .cloned()
                .unwrap_or_else(|| "ours".to_owned()),
            record: flags.get("record").map(Into::into),
        })),
        "upload-ratios" => upload::ratios(std::path::Path::new(&flag("record")?)),
        "gateway" => runtime.block_on(gateway::run(gateway::Options {
            gateway_bin: flag("gateway-bin")?,
            requests: flags.get("requests").map_or(Ok(5000), |r| r.parse())?,
            concurrency: flags.get("concurrency").map_or(Ok(50), |c| c.parse())?,
            rate: flags.get("rate").map(|r| r.parse()).transpose()?,
            upstream_delay: std::time::Duration::from_millis(
                flags.get("upstream-ms").map_or(Ok(0), |d| d.parse())?,
            ),
        })),
        "queue" => runtime.block_on(queue::run(queue::Options {
            jobs: flags.get("jobs").map_or(Ok(20_000), |n| n.parse())?,
        })),
        "pipeline" => runtime.block_on(pipeline::run(pipeline::Options {
            corpus: flag("corpus")?.into(),
            worker_bin: flag("worker-bin")?.into(),
            api: flags.get("api").cloned(),
            token: flags.get("token").cloned(),
            read_token: flags.get("read-token").cloned(),
            extra: flags
                .get("extra")
                .map(|list| {
                    list.split(',')
                        .filter(|p| !p.is_empty())
                        .map(Into::into)
                        .collect()
                })
                .unwrap_or_default(),
            ocrmypdf: flags.get("ocrmypdf").map(Into::into),
        })),
        "listening" => runtime.block_on(listening::run(listening::Options {
            corpus: flag("corpus")?.into(),
            worker_bin: flag("worker-bin")?.into(),
            peer_python: flag("peer-python")?.into(),
            peer_script: flag("peer-script")?.into(),
            peer_cache: flags.get("peer-cache").map(Into::into),
            only: flags.get("only").cloned(),
            before: flags.get("before").map(Into::into),
            missing: flags
                .get("missing")
                .map(|n| n.parse())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--missing: {e}"))?
                .unwrap_or(0),
        })),
        other => {
            anyhow::bail!(
                "unknown benchmark {other:?}; try: upload, gateway, queue, pipeline, listening"
            )
        }
    }
}

/// Run a program (output discarded) and print its peak resident set in KiB: this
/// process has no other child, so its children's peak is that program's.
fn rss(args: &[String]) -> anyhow::Result<()> {
    let (program, rest) = args
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("rss: no program given"))?;
    let status = std::process::Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "{program} failed: {status}");
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    println!("{}", usage.max_rss());
    Ok(())
}
