//! `keel serve`'s settings: every flag also an environment variable, validated once at start.
//! A missing or malformed setting stops start-up with one line naming it. Secrets are held as
//! `SecretString` (their `Debug` prints `[REDACTED]`) and never printed by `--help`.

use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `keel serve` flags.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The GitHub App's id.
    #[arg(long, env = "KEEL_APP_ID")]
    pub app_id: Option<String>,
    /// The App's private key (PEM text).
    #[arg(
        long,
        env = "KEEL_PRIVATE_KEY",
        hide_env_values = true,
        conflicts_with = "private_key_path"
    )]
    pub private_key: Option<String>,
    /// A file holding the App's private key (PEM).
    #[arg(long, env = "KEEL_PRIVATE_KEY_PATH")]
    pub private_key_path: Option<PathBuf>,
    /// The secret GitHub signs webhook deliveries with.
    #[arg(long, env = "KEEL_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// `sqlite://keel.db` (created if missing) or `postgres://…` (for several replicas).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://keel.db"
    )]
    pub database_url: String,
    /// GitHub's API (set it for GitHub Enterprise Server).
    #[arg(
        long,
        env = "KEEL_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// Address to listen on.
    #[arg(long, env = "KEEL_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// Jobs run at once (0: receive and store deliveries only, for a separate worker fleet).
    #[arg(long, env = "KEEL_WORKERS", default_value = "4")]
    pub workers: String,
    /// Seconds a worker holds a job before another may take it over (a killed worker's job
    /// runs again after this long).
    #[arg(long, env = "KEEL_JOB_LEASE_SECS", default_value = "300")]
    pub job_lease_secs: String,
    /// Where `/metrics` is served: an address (an internal port, `0.0.0.0:9090`), or
    /// `webhook` beside the webhook (only where that port is private). Unset: not served, since
    /// the metrics name installations and their remaining GitHub budget.
    #[arg(long, env = "KEEL_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Most webhook body bytes held at once before their signatures are checked, in MiB;
    /// `keel upload` bodies have as much again, apart.
    #[arg(long, env = "KEEL_MAX_IN_FLIGHT_MIB", default_value = "64")]
    pub max_in_flight_mib: String,
    /// Connections open at once; more wait to be accepted. A connection idle for 60 s closes.
    #[arg(long, env = "KEEL_MAX_CONNECTIONS", default_value = "512")]
    pub max_connections: String,
    /// Days finished jobs, closed pull requests, runs and verdicts are kept (payloads: one day;
    /// dead jobs, commits and baselines: three times as long).
    #[arg(long, env = "KEEL_RETENTION_DAYS", default_value = "30")]
    pub retention_days: String,
    /// Crashes (or time-outs) after which a job is buried instead of taken over again.
    #[arg(long, env = "KEEL_MAX_CRASHES", default_value = "3")]
    pub max_crashes: String,
    /// Where people reach Keel, `https://keel.example.com`: with the two below, serves the
    /// dashboard at `/dashboard` (GitHub sends viewers back to `/dashboard/callback`).
    #[arg(long, env = "KEEL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The App's client id (its settings page, or `keel setup`'s file).
    #[arg(long, env = "KEEL_APP_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The App's client secret.
    #[arg(long, env = "KEEL_APP_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
}

/// What signs dashboard viewers in (`KEEL_PUBLIC_URL`, `KEEL_APP_CLIENT_ID`,
/// `KEEL_APP_CLIENT_SECRET`, all three or none).
#[derive(Debug, Clone)]
pub struct SignIn {
    /// Where people reach Keel: `https://host[:port]`, no path.
    pub public_url: String,
    /// The App's client id.
    pub client_id: String,
    /// The App's client secret.
    pub client_secret: SecretString,
}

/// Where `/metrics` is served (`KEEL_METRICS_LISTEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAt {
    /// Not served (the default: the metrics name installations and their GitHub budget).
    Nowhere,
    /// Beside the webhook, on its listener (a private deployment).
    Webhook,
    /// On an address of its own.
    Own(SocketAddr),
}

/// Validated settings.
#[derive(Debug)]
pub struct Settings {
    /// The App's id.
    pub app_id: u64,
    /// The App's private key, PEM.
    pub private_key: SecretString,
    /// The webhook secret.
    pub webhook_secret: SecretString,
    /// The database URL (may hold a password).
    pub database_url: SecretString,
    /// GitHub's API base URL, without a trailing slash.
    pub github_api_url: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Concurrent workers.
    pub workers: usize,
    /// How long a claimed job's lease lasts, ms.
    pub job_lease_ms: i64,
    /// Where `/metrics` is served.
    pub metrics_listen: MetricsAt,
    /// Most unauthenticated body bytes in flight.
    pub max_in_flight_bytes: u64,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long stored data is kept.
    pub retention: crate::store::Retention,
    /// Crashes after which a job is buried.
    pub max_crashes: i64,
    /// The dashboard's sign-in; `None`: no dashboard.
    pub sign_in: Option<SignIn>,
}

/// A setting is missing or malformed; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl Settings {
    /// Validates `args`.
    pub fn from_args(args: ServeArgs) -> Result<Settings, SettingsError> {
        let fail = |m: &str| Err(SettingsError(m.to_owned()));
        let app_id = match args.app_id.as_deref().map(str::trim) {
            None | Some("") => return fail("KEEL_APP_ID (--app-id) is missing"),
            Some(id) => match id.parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => return fail("KEEL_APP_ID (--app-id) must be the App's numeric id"),
            },
        };
        let pem = match (args.private_key, args.private_key_path) {
            (Some(text), _) => text,
            (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                SettingsError(format!(
                    "KEEL_PRIVATE_KEY_PATH ({}) cannot be read: {e}",
                    path.display()
                ))
            })?,
            (None, None) => return fail("KEEL_PRIVATE_KEY or KEEL_PRIVATE_KEY_PATH is missing"),
        };
        if !(pem.contains("-----BEGIN") && pem.contains("PRIVATE KEY-----")) {
            return fail(
                "KEEL_PRIVATE_KEY is not a PEM private key (-----BEGIN … PRIVATE KEY-----)",
            );
        }
        if jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).is_err() {
            return fail("KEEL_PRIVATE_KEY is not an RSA private key (GitHub Apps use RSA)");
        }
        let workers = match args.workers.trim().parse::<usize>() {
            Ok(n) if n <= 64 => n,
            _ => return fail("KEEL_WORKERS (--workers) must be a number from 0 to 64"),
        };
        let job_lease_ms = match args.job_lease_secs.trim().parse::<i64>() {
            Ok(n) if (1..=86_400).contains(&n) => n * 1000,
            _ => return fail("KEEL_JOB_LEASE_SECS (--job-lease-secs) must be 1 to 86400 seconds"),
        };
        let webhook_secret = match args.webhook_secret {
            Some(s) if !s.is_empty() => SecretString::from(s),
            _ => return fail("KEEL_WEBHOOK_SECRET (--webhook-secret) is missing"),
        };
        if !(args.database_url.starts_with("sqlite:") || args.database_url.starts_with("postgres"))
        {
            return fail("DATABASE_URL must start with sqlite: or postgres://");
        }
        let api = args.github_api_url.trim_end_matches('/').to_owned();
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            return fail("KEEL_GITHUB_API_URL must be an http(s) URL");
        }
        let listen = args.listen.parse().map_err(|_| {
            SettingsError(format!(
                "KEEL_LISTEN ({}) must be an address like 127.0.0.1:3000",
                args.listen
            ))
        })?;
        let metrics_listen = match args.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => MetricsAt::Nowhere,
            Some("webhook") => MetricsAt::Webhook,
            Some(addr) => MetricsAt::Own(addr.parse().map_err(|_| {
                SettingsError(format!(
                    "KEEL_METRICS_LISTEN ({addr}) must be an address like 0.0.0.0:9090, or `webhook`"
                ))
            })?),
        };
        let max_in_flight_bytes = match args.max_in_flight_mib.trim().parse::<u64>() {
            Ok(n) if (1..=4096).contains(&n) => n * 1024 * 1024,
            _ => return fail("KEEL_MAX_IN_FLIGHT_MIB must be 1 to 4096 (MiB)"),
        };
        let max_connections = match args.max_connections.trim().parse::<usize>() {
            Ok(n) if (1..=65_536).contains(&n) => n,
            _ => return fail("KEEL_MAX_CONNECTIONS must be 1 to 65536"),
        };
        let retention = match args.retention_days.trim().parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => crate::store::Retention::days(n),
            _ => return fail("KEEL_RETENTION_DAYS must be 1 to 3650 (days)"),
        };
        let max_crashes = match args.max_crashes.trim().parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return fail("KEEL_MAX_CRASHES must be 1 to 100"),
        };
        let sign_in = sign_in(args.public_url, args.client_id, args.client_secret)?;
        Ok(Settings {
            sign_in,
            app_id,
            private_key: SecretString::from(pem),
            webhook_secret,
            database_url: SecretString::from(args.database_url),
            github_api_url: api,
            listen,
            workers,
            job_lease_ms,
            metrics_listen,
            max_in_flight_bytes,
            max_connections,
            retention,
            max_crashes,
        })
    }

    /// The database URL, for connecting.
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

/// The dashboard's sign-in: all three settings or none; the public address an origin that
/// browsers will keep a secure cookie for (https, or plain http on this machine only).
fn sign_in(
    public_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<Option<SignIn>, SettingsError> {
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (url, id, secret) = match (given(public_url), given(client_id), given(client_secret)) {
        (None, None, None) => return Ok(None),
        (Some(url), Some(id), Some(secret)) => (url, id, secret),
        _ => {
            return Err(SettingsError(
                "the dashboard needs KEEL_PUBLIC_URL, KEEL_APP_CLIENT_ID and KEEL_APP_CLIENT_SECRET together (set all three, or none)".to_owned(),
            ));
        }
    };
    // As browsers write an origin: lowercase, without the scheme's default port.
    let url = url.trim_end_matches('/').to_ascii_lowercase();
    let url = url
        .strip_suffix(":443")
        .filter(|_| url.starts_with("https://"))
        .or_else(|| {
            url.strip_suffix(":80")
                .filter(|_| url.starts_with("http://"))
        })
        .unwrap_or(&url)
        .to_owned();
    if !crate::github::client::is_plain_origin(&url) {
        return Err(SettingsError(format!(
            "KEEL_PUBLIC_URL ({url}) must be https://host[:port] with no path (plain http only for this machine)"
        )));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return Err(SettingsError(
            "KEEL_APP_CLIENT_ID must be the App's client id (Iv23… on its settings page)"
                .to_owned(),
        ));
    }
    Ok(Some(SignIn {
        public_url: url,
        client_id: id,
        client_secret: SecretString::from(secret),
    }))
}

#[cfg(test)]
mod tests {
    use super::sign_in;

    #[test]
    fn the_public_address_is_written_as_browsers_write_an_origin() {
        let given = |url: &str| {
            sign_in(Some(url.into()), Some("Iv23abc".into()), Some("s".into()))
                .map(|s| s.map(|s| s.public_url))
                .map_err(|e| e.to_string())
        };
        for (url, origin) in [
            ("https://Keel.Example.com:443/", "https://keel.example.com"),
            (
                "https://keel.example.com:8443",
                "https://keel.example.com:8443",
            ),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://localhost:3000/", "http://localhost:3000"),
        ] {
            assert_eq!(given(url), Ok(Some(origin.to_owned())), "{url}");
        }
        for refused in [
            "https://keel.example.com/keel",
            "http://keel.example.com",
            "https://keel.example.com?x",
            "ftp://keel.example.com",
        ] {
            assert!(given(refused).is_err(), "{refused}");
        }
    }
}
