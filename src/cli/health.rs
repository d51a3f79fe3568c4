//! `keel health`: asks a running server whether it is up, for container health checks (the
//! image has no curl).

use super::{EXIT_FAILED, EXIT_OK};
use anyhow::Context;
use std::process::ExitCode;

/// `keel health` arguments.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The health endpoint.
    #[arg(long, default_value = "http://127.0.0.1:3000/healthz")]
    pub url: String,
}

/// Runs `keel health`: exit 0 when `url` answers 200, 1 otherwise (with the reason).
pub fn run(url: &str) -> ExitCode {
    match probe(url) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("unhealthy: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `GET url` over plain HTTP on the local network; `Ok` on a 200. For container health checks.
pub fn probe(url: &str) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .context("the health URL must be http://HOST:PORT/PATH")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .with_context(|| format!("resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))?;
    let timeout = std::time::Duration::from_secs(5);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connect to {host}"))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).context("read the response")?;
    if &head[9..12] == b"200" {
        Ok(())
    } else {
        anyhow::bail!("{host} answered {}", String::from_utf8_lossy(&head[9..12]))
    }
}
