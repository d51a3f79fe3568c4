//! The App's webhook delivery log (`/app/hook/deliveries`), read and acted on as the App
//! itself (its JWT, not an installation token): GitHub never redelivers a failed delivery on
//! its own, so Keel asks for the ones it missed.

use super::transport::{answer, from_octocrab};
use super::*;

/// Attempts per page (GitHub's maximum).
const PER_PAGE: usize = 100;

#[derive(Deserialize)]
struct Listed {
    id: u64,
    guid: String,
    delivered_at: String,
    #[serde(default)]
    status_code: u16,
}

/// A GET or POST as the App; the body of a 2xx answer and the `cursor` of its next page.
async fn app_call(
    gh: &GitHub,
    post: bool,
    uri: &str,
) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let sent = if post {
        gh.app._post(uri, None::<&()>).await
    } else {
        gh.app._get(uri).await
    };
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            gh.metrics.github_call(None, None);
            return Err(from_octocrab(e, now_secs()));
        }
    };
    gh.metrics
        .github_call(Some(response.status().as_u16()), None);
    let (headers, body) = answer(uri, response, MAX_RESPONSE_BYTES).await?;
    let next = headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| {
            part.split(['?', '&', '>'])
                .find_map(|p| p.strip_prefix("cursor="))
        })
        .map(str::to_owned);
    Ok((body, next))
}

/// Attempts since `since`, newest first, at most `max`.
pub(super) async fn list(
    gh: &GitHub,
    since: i64,
    max: usize,
) -> Result<Vec<HookDelivery>, ApiError> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    // A log that keeps offering a next page stops here.
    for _ in 0..max.div_ceil(PER_PAGE) + 1 {
        let mut uri = format!("/app/hook/deliveries?per_page={PER_PAGE}");
        if let Some(c) = &cursor {
            // As GitHub wrote it in the `Link` header (already a URL's text).
            uri.push_str("&cursor=");
            uri.push_str(c);
        }
        let (body, next) = app_call(gh, false, &uri).await?;
        let page: Vec<Listed> = serde_json::from_slice(&body)
            .map_err(|e| ApiError::Transient(format!("{uri}: unreadable response: {e}")))?;
        let mut older = false;
        for d in page {
            let Some(at) = millis(&d.delivered_at) else {
                continue;
            };
            if at < since {
                older = true;
                continue;
            }
            found.push(HookDelivery {
                id: d.id,
                guid: d.guid,
                delivered_at: at,
                status_code: d.status_code,
            });
        }
        if older || found.len() >= max || next.is_none() {
            found.truncate(max);
            return Ok(found);
        }
        cursor = next;
    }
    found.truncate(max);
    Ok(found)
}

/// Asks for attempt `id` to be delivered again.
pub(super) async fn redeliver(gh: &GitHub, id: u64) -> Result<(), ApiError> {
    app_call(gh, true, &format!("/app/hook/deliveries/{id}/attempts"))
        .await
        .map(|_| ())
}
