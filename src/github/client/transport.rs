//! How every request reaches GitHub: the installation's client (its token minted once and
//! cached), one `send` that counts each call by status for `/metrics`, records the budget
//! GitHub reports, refuses calls while an installation's budget is spent, caps the response
//! body and classifies failures ([`ApiError`]) for the queue to decide when to try again.

use super::*;

/// A response as octocrab hands it over (its body not read yet).
pub(super) type Response =
    axum::http::Response<http_body_util::combinators::BoxBody<axum::body::Bytes, octocrab::Error>>;

/// An HTTP method Keel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl GitHub {
    /// The client for one installation (its token is minted on first use and cached).
    pub(super) async fn installation(
        &self,
        id: &InstallationId,
    ) -> Result<Arc<Octocrab>, ApiError> {
        if let Some(client) = &self.token_client {
            return Ok(Arc::clone(client));
        }
        let mut cache = self.installations.lock().await;
        if let Some(client) = cache.get(id) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(
            self.app
                .installation(octocrab::models::InstallationId(id.0))
                .map_err(|e| from_octocrab(e, now_secs()))?,
        );
        cache.insert(id.clone(), Arc::clone(&client));
        Ok(client)
    }

    /// Sends one request as the installation and counts it (status, rate limit left) for
    /// `/metrics`; a request that got no response at all is classified here.
    pub(super) async fn request(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ApiError> {
        // A spent budget is not spent further: the job waits for the reset (its installation
        // is parked), without a call GitHub would refuse.
        let now = now_secs();
        if let Some(budget) = self.metrics.budget(repo.installation.0)
            && budget.remaining == 0
            && budget.reset_secs > now
        {
            return Err(ApiError::RateLimited {
                retry_after_secs: budget.reset_secs - now,
                message: format!(
                    "installation {}'s API budget is spent until its reset",
                    repo.installation.0
                ),
            });
        }
        let client = self.installation(&repo.installation).await?;
        let mut uri = route.to_owned();
        for (i, (k, v)) in query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            uri.push_str(&encode(k));
            uri.push('=');
            uri.push_str(&encode(v));
        }
        let sent = match method {
            Method::Get => client._get(uri.as_str()).await,
            Method::Post => client._post(uri.as_str(), body).await,
            Method::Patch => client._patch(uri.as_str(), body).await,
            Method::Delete => client._delete(uri.as_str(), body).await,
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                self.metrics.github_call(None, None);
                return Err(from_octocrab(e, now_secs()));
            }
        };
        let header = |name: &str| header_number(response.headers(), name);
        let remaining = header("x-ratelimit-remaining");
        if let (Some(remaining), Some(reset_secs)) = (remaining, header("x-ratelimit-reset")) {
            // A window lasts an hour: a later reset is a bogus header, not a longer wait.
            let reset_secs = reset_secs.min(now.saturating_add(MAX_WINDOW_SECS));
            self.metrics.budget_seen(
                repo.installation.0,
                Budget {
                    remaining,
                    reset_secs,
                },
            );
        }
        self.metrics
            .github_call(Some(response.status().as_u16()), remaining);
        Ok(response)
    }

    /// Sends one request as the installation and returns the body of a 2xx response (at most
    /// `max_bytes`); anything else becomes a classified [`ApiError`].
    pub(super) async fn send(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        max_bytes: usize,
    ) -> Result<Vec<u8>, ApiError> {
        let response = self.request(repo, method, route, query, body).await?;
        answer(route, response, max_bytes)
            .await
            .map(|(_, bytes)| bytes)
    }

    /// [`GitHub::send`], with the response read as JSON.
    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ApiError> {
        let bytes = self
            .send(repo, method, route, query, body, MAX_RESPONSE_BYTES)
            .await?;
        // A 2xx whose body does not parse was most likely cut off on the way: try again
        // (every write Keel makes is found again before it is repeated).
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Transient(format!("{route}: unreadable response: {e}")))
    }

    /// Page `page` (1-based) of a list endpoint, [`PER_PAGE`] items per page.
    pub(super) async fn page<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        route: &str,
        page: u32,
    ) -> Result<Vec<T>, ApiError> {
        self.filtered_page(repo, route, &[], page).await
    }

    /// Page `page` of a list endpoint narrowed by `filters` (`state`, `labels`, …).
    pub(super) async fn filtered_page<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        route: &str,
        filters: &[(&str, &str)],
        page: u32,
    ) -> Result<Vec<T>, ApiError> {
        let page = page.to_string();
        let per_page = PER_PAGE.to_string();
        let mut query = filters.to_vec();
        query.extend([("per_page", per_page.as_str()), ("page", page.as_str())]);
        self.json(repo, Method::Get, route, &query, None).await
    }

    /// A write whose answer Keel does not need.
    pub(super) async fn write(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        body: &serde_json::Value,
    ) -> Result<(), ApiError> {
        self.send(repo, method, route, &[], Some(body), MAX_RESPONSE_BYTES)
            .await
            .map(drop)
    }
}

/// The headers and body (at most `max_bytes`) of a 2xx `response` to `route`; anything else
/// becomes a classified [`ApiError`].
pub(super) async fn answer(
    route: &str,
    response: Response,
    max_bytes: usize,
) -> Result<(axum::http::HeaderMap, Vec<u8>), ApiError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if let Some(length) = header_number(&headers, "content-length")
        && length > max_bytes as u64
    {
        return Err(too_large(route, length, max_bytes));
    }
    let collected = http_body_util::Limited::new(response.into_body(), max_bytes)
        .collect()
        .await;
    let bytes = match collected {
        Ok(c) => c.to_bytes().to_vec(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(too_large(route, max_bytes as u64 + 1, max_bytes));
        }
        Err(e) => {
            return Err(ApiError::Transient(format!(
                "{route}: read the response: {e}"
            )));
        }
    };
    if (200..300).contains(&status) {
        return Ok((headers, bytes));
    }
    Err(failure(status, &headers, &bytes))
}

/// A response header holding a number (`content-length`, `x-ratelimit-*`, `retry-after`).
pub(super) fn header_number(headers: &axum::http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A non-2xx response as an [`ApiError`]: GitHub's message, classified by status and headers.
pub(super) fn failure(status: u16, headers: &axum::http::HeaderMap, body: &[u8]) -> ApiError {
    let header = |name: &str| header_number(headers, name);
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    classify(
        status,
        header("retry-after"),
        header("x-ratelimit-remaining"),
        header("x-ratelimit-reset"),
        message,
        now_secs(),
    )
}

pub(super) fn too_large(route: &str, size: u64, limit: usize) -> ApiError {
    ApiError::Rejected {
        status: 200,
        message: format!("{route}: the response is {size} bytes, over the limit of {limit}"),
    }
}

/// Classifies a failed response: rate limits (403/429 with `retry-after`, or the primary
/// limit exhausted) wait as GitHub says; 5xx and 401 are transient; other 4xx are final.
pub(super) fn classify(
    status: u16,
    retry_after: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    message: String,
    now_secs: u64,
) -> ApiError {
    let exhausted = remaining == Some(0);
    if matches!(status, 403 | 429) && (retry_after.is_some() || exhausted || status == 429) {
        let retry_after_secs = retry_after
            .or_else(|| reset.map(|r| r.saturating_sub(now_secs)))
            .unwrap_or(60);
        return ApiError::RateLimited {
            retry_after_secs,
            message,
        };
    }
    if status >= 500 || status == 401 {
        return ApiError::Transient(format!("{status} {message}"));
    }
    ApiError::Rejected { status, message }
}

/// An octocrab error from minting a token or sending a request.
pub(super) fn from_octocrab(e: octocrab::Error, now_secs: u64) -> ApiError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let header = |name: &str| {
                source
                    .headers
                    .as_ref()?
                    .get(name)?
                    .to_str()
                    .ok()?
                    .trim()
                    .parse::<u64>()
                    .ok()
            };
            classify(
                source.status_code.as_u16(),
                header("retry-after"),
                header("x-ratelimit-remaining"),
                source
                    .rate_limit_reset
                    .or_else(|| header("x-ratelimit-reset")),
                source.message.clone(),
                now_secs,
            )
        }
        other => ApiError::Transient(other.to_string()),
    }
}

/// GitHub's rate limit window, with a minute's slack for clock skew.
pub(super) const MAX_WINDOW_SECS: u64 = 61 * 60;
