//! The bot provider: Pipecat Cloud's public start API, or a local Pipecat runner
//! (only `BOT_START_URL` differs; see `../shared/pipecat-start-api.md`).
//!
//! A start is billed, so it is never retried, not even by the HTTP client. Error
//! bodies are parsed defensively (JSON `{error|message|detail, code}` or not JSON at
//! all) and classified into the gateway's error map. A 200 is cut down to what the
//! transport needs; the Daily token passes through to the browser and is neither
//! stored nor logged.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::config::{Transport, UpstreamConfig};

/// Why a call to the provider failed, already sorted into the error map.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the bot service is at capacity")]
    AtCapacity {
        retry_after: Option<u64>,
        code: Option<String>,
    },
    #[error("the bot service is not ready")]
    Unavailable {
        code: Option<String>,
        detail: String,
    },
    #[error("the bot service rejected our configuration (HTTP {status})")]
    Misconfigured { status: u16, detail: String },
    #[error("the request body is too large for the bot service")]
    TooLarge,
    #[error("the bot service did not answer in time")]
    Timeout(#[source] reqwest::Error),
    #[error("the bot service could not be reached")]
    Unreachable(#[source] reqwest::Error),
    #[error("the bot service answered unexpectedly: {0}")]
    Bad(String),
    #[error("the session is not running")]
    NoSession,
}

/// A started bot session.
#[derive(Debug)]
pub struct Started {
    pub session_id: String,
    /// What the browser's transport needs, and nothing else.
    pub payload: Value,
}

#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    config: UpstreamConfig,
}

impl Upstream {
    pub fn new(config: UpstreamConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .retry(reqwest::retry::never())
            .user_agent(concat!("readme-bot-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, config })
    }

    fn bearer(
        &self,
        key: Option<&SecretString>,
        request: reqwest::RequestBuilder,
    ) -> reqwest::RequestBuilder {
        match key {
            Some(key) => request.header(AUTHORIZATION, format!("Bearer {}", key.expose_secret())),
            None => request,
        }
    }

    /// The upstream start body: built here, never taken from the browser.
    pub fn start_body(&self, transport: Transport, body: Map<String, Value>) -> Value {
        let mut start = Map::new();
        start.insert("transport".into(), Value::String(transport.as_str().into()));
        match transport {
            Transport::Daily => {
                start.insert("createDailyRoom".into(), Value::Bool(true));
                if let Some(props) = &self.config.daily_room_properties {
                    start.insert("dailyRoomProperties".into(), Value::Object(props.clone()));
                }
            }
            Transport::Webrtc => {
                start.insert("enableDefaultIceServers".into(), Value::Bool(true));
            }
        }
        start.insert("body".into(), Value::Object(body));
        Value::Object(start)
    }

    /// POST the start body; one attempt only.
    pub async fn start(
        &self,
        transport: Transport,
        start_body: &Value,
    ) -> Result<Started, UpstreamError> {
        let request = self
            .client
            .post(self.config.start_url.clone())
            .json(start_body);
        let started = Instant::now();
        let result = self
            .bearer(self.config.public_api_key.as_ref(), request)
            .send()
            .await;
        metrics::histogram!("bot_upstream_duration_seconds", "call" => "start")
            .record(started.elapsed().as_secs_f64());
        let response = result.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response.bytes().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            return parse_started(transport, &body);
        }
        Err(self.redact(classify(status, retry_after, &body)))
    }

    /// Remove our keys from upstream text before it can reach a log: a provider may
    /// echo the credential it rejected.
    fn redact(&self, error: UpstreamError) -> UpstreamError {
        let keys: Vec<&str> = [&self.config.public_api_key, &self.config.private_api_key]
            .into_iter()
            .flatten()
            .map(|k| k.expose_secret())
            .filter(|k| !k.is_empty())
            .collect();
        let clean = |text: String| keys.iter().fold(text, |t, k| t.replace(k, "[REDACTED]"));
        match error {
            UpstreamError::Unavailable { code, detail } => UpstreamError::Unavailable {
                code,
                detail: clean(detail),
            },
            UpstreamError::Misconfigured { status, detail } => UpstreamError::Misconfigured {
                status,
                detail: clean(detail),
            },
            UpstreamError::Bad(detail) => UpstreamError::Bad(clean(detail)),
            other => other,
        }
    }

    /// Forward a WebRTC offer (POST) or ICE candidates (PATCH) to the session's bot.
    pub async fn offer(
        &self,
        session_id: &str,
        method: reqwest::Method,
        content_type: Option<String>,
        body: Bytes,
    ) -> Result<(u16, Option<String>, Bytes), UpstreamError> {
        let url = self.session_url(session_id, "api/offer");
        let mut request = self.client.request(method, url).body(body);
        if let Some(ct) = content_type {
            request = request.header(CONTENT_TYPE, ct);
        }
        let response = self
            .bearer(self.config.public_api_key.as_ref(), request)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(transport_error)?;
        match status {
            200..=299 => Ok((status, content_type, body)),
            404 => Err(UpstreamError::NoSession),
            _ => Err(self.redact(classify(status, None, &body))),
        }
    }

    /// Stop a Pipecat Cloud session (needs the private key). A local runner has no
    /// stop API: then this does nothing.
    pub async fn stop(&self, session_id: &str) -> Result<(), UpstreamError> {
        let (Some(key), Some(url)) = (
            self.config.private_api_key.as_ref(),
            self.cloud_session_url(session_id),
        ) else {
            return Ok(());
        };
        let response = self
            .bearer(Some(key), self.client.delete(url))
            .send()
            .await
            .map_err(transport_error)?;
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            status => {
                let body = response.bytes().await.unwrap_or_default();
                Err(self.redact(classify(status, None, &body)))
            }
        }
    }

    /// `…/start` → `…/sessions/{sid}/{rest}` (Cloud's session proxy and the runner's routes alike).
    fn session_url(&self, session_id: &str, rest: &str) -> url::Url {
        let mut url = self.config.start_url.clone();
        let base = url
            .path()
            .strip_suffix("/start")
            .unwrap_or(url.path())
            .to_owned();
        url.set_path(&format!("{base}/sessions/{session_id}/{rest}"));
        url
    }

    /// `…/v1/public/{agent}/start` → `…/v1/agents/{agent}/sessions/{sid}`.
    fn cloud_session_url(&self, session_id: &str) -> Option<url::Url> {
        let segments: Vec<&str> = self.config.start_url.path_segments()?.collect();
        let [.., "v1", "public", agent, "start"] = segments.as_slice() else {
            return None;
        };
        let mut url = self.config.start_url.clone();
        url.set_path(&format!("/v1/agents/{agent}/sessions/{session_id}"));
        Some(url)
    }
}

fn transport_error(e: reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout(e)
    } else if e.is_connect() {
        UpstreamError::Unreachable(e)
    } else {
        UpstreamError::Bad(format!("transport error: {e}"))
    }
}

fn parse_started(transport: Transport, body: &[u8]) -> Result<Started, UpstreamError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| UpstreamError::Bad("a 200 that is not JSON".into()))?;
    let Value::Object(map) = value else {
        return Err(UpstreamError::Bad(format!(
            "a 200 whose body is {} (the runner does this for daily without DAILY_API_KEY)",
            kind(&value)
        )));
    };
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let session_id =
        text("sessionId").ok_or_else(|| UpstreamError::Bad("a 200 without sessionId".into()))?;
    let payload = match transport {
        Transport::Daily => {
            let room = text("dailyRoom")
                .ok_or_else(|| UpstreamError::Bad("a daily start without dailyRoom".into()))?;
            let token = text("dailyToken")
                .ok_or_else(|| UpstreamError::Bad("a daily start without dailyToken".into()))?;
            json!({"dailyRoom": room, "dailyToken": token, "sessionId": session_id})
        }
        Transport::Webrtc => {
            let mut payload = json!({"sessionId": session_id});
            if let Some(ice) = map.get("iceConfig").filter(|v| v.is_object()) {
                payload["iceConfig"] = ice.clone();
            }
            payload
        }
    };
    Ok(Started {
        session_id,
        payload,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Sort a non-2xx answer into the error map.
fn classify(status: u16, retry_after: Option<u64>, body: &[u8]) -> UpstreamError {
    let json: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        json.as_ref().and_then(|m| m.get(k)).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
    };
    let code = field("code");
    let detail = field("error")
        .or_else(|| field("message"))
        .or_else(|| field("detail"))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    let code_is = |c: &str| code.as_deref() == Some(c);
    if status == 429 || code_is("PCC-AGENT-AT-CAPACITY") {
        return UpstreamError::AtCapacity { retry_after, code };
    }
    if code_is("PCC-1001")
        || code_is("PCC-1004")
        || (status == 400 && detail.to_ascii_lowercase().contains("disabled"))
    {
        return UpstreamError::Unavailable { code, detail };
    }
    match status {
        401 | 403 | 404 => UpstreamError::Misconfigured { status, detail },
        413 => UpstreamError::TooLarge,
        _ => UpstreamError::Bad(format!("HTTP {status}: {detail}")),
    }
}

/// Seconds to suggest in `Retry-After` when the provider gives none.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_as_the_map_says() {
        assert!(matches!(
            classify(
                429,
                Some(12),
                b"{\"status\":429,\"code\":\"429\",\"message\":\"busy\"}"
            ),
            UpstreamError::AtCapacity {
                retry_after: Some(12),
                ..
            }
        ));
        assert!(matches!(
            classify(
                503,
                None,
                b"{\"error\":\"x\",\"code\":\"PCC-AGENT-AT-CAPACITY\"}"
            ),
            UpstreamError::AtCapacity { .. }
        ));
        assert!(matches!(
            classify(
                400,
                None,
                b"{\"error\":\"not ready\",\"code\":\"PCC-1001\"}"
            ),
            UpstreamError::Unavailable { .. }
        ));
        assert!(matches!(
            classify(400, None, b"{\"error\":\"billing\",\"code\":\"PCC-1004\"}"),
            UpstreamError::Unavailable { .. }
        ));
        assert!(matches!(
            classify(400, None, b"{\"detail\":\"Transport 'daily' is disabled\"}"),
            UpstreamError::Unavailable { .. }
        ));
        for status in [401, 403, 404] {
            assert!(
                matches!(
                    classify(status, None, b"nope"),
                    UpstreamError::Misconfigured { .. }
                ),
                "{status}"
            );
        }
        assert!(matches!(classify(413, None, b""), UpstreamError::TooLarge));
        assert!(matches!(
            classify(500, None, b"<html>oops</html>"),
            UpstreamError::Bad(_)
        ));
        assert!(matches!(
            classify(422, None, b"{\"detail\":[{\"msg\":\"x\"}]}"),
            UpstreamError::Bad(_)
        ));
    }

    #[test]
    fn a_200_is_cut_down_to_the_transport_payload() {
        let daily = br#"{"dailyRoom":"https://x.daily.co/r","dailyToken":"tok","sessionId":"s1","extra":"dropped"}"#;
        let started = parse_started(Transport::Daily, daily).unwrap();
        assert_eq!(started.session_id, "s1");
        assert_eq!(
            started.payload,
            json!({"dailyRoom": "https://x.daily.co/r", "dailyToken": "tok", "sessionId": "s1"})
        );
        let webrtc = br#"{"sessionId":"s2","iceConfig":{"iceServers":[]},"fileUploadUrl":"/x"}"#;
        assert_eq!(
            parse_started(Transport::Webrtc, webrtc).unwrap().payload,
            json!({"sessionId": "s2", "iceConfig": {"iceServers": []}})
        );
        for bad in [
            &b"null"[..],
            b"[]",
            b"{}",
            b"{\"sessionId\":\"\"}",
            b"not json",
            br#"{"sessionId":"s"}"#,
        ] {
            assert!(
                parse_started(Transport::Daily, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
