//! The faucet's HTTP API (axum): `POST /api/claim`, `GET /api/info`, `GET /api/history`,
//! `GET /metrics`, `GET /healthz`, and the HTML page (`GET /`, form `POST /claim`, see
//! [`crate::page`]). Every refusal of the JSON API is `{"error": CODE, "message": TEXT}` with a
//! 4xx/5xx status, and of the HTML routes a page with the same status (`opdev_http::harden`
//! shapes the answers axum makes itself: 404, 405); bodies over 1 KiB, other content types and
//! malformed input are refused before anything is reserved or sent.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use alloy::primitives::{U256, utils::format_ether};
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    claim::{ClaimError, Faucet, parse_address},
    metrics::ClaimOutcome,
    nonce::SendError,
    page,
};

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024;
/// Default and maximum number of rows `GET /api/history` returns.
pub const HISTORY_DEFAULT: u32 = 50;
/// Maximum of `limit` in `GET /api/history`.
pub const HISTORY_MAX: u32 = 1000;
/// Most bytes of an oversized body read (and dropped) before answering 413.
const DRAIN_MAX: usize = 64 * 1024;
/// Deadline of a balance reading for `/api/info` and `/metrics`.
const BALANCE_TIMEOUT: Duration = Duration::from_secs(2);

type Shared = Arc<Faucet>;

/// The router.
pub(crate) fn router(faucet: Shared) -> Router {
    let router = Router::new()
        .route("/", get(index))
        .route("/claim", post(form_claim))
        .route("/api/claim", post(api_claim))
        .route("/api/info", get(info))
        .route("/api/history", get(history))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(faucet);
    let page: opdev_http::PageFn = Arc::new(page::error);
    opdev_http::harden(router, Some(page))
}

/// A JSON error answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<&ClaimError> for ApiError {
    fn from(e: &ClaimError) -> Self {
        let (status, code) = match e {
            ClaimError::InvalidAddress(_) | ClaimError::ZeroAddress => {
                (StatusCode::BAD_REQUEST, "invalid_address")
            }
            ClaimError::UnknownChain(_) => (StatusCode::BAD_REQUEST, "unknown_chain"),
            ClaimError::AddressLimited { .. } | ClaimError::IpLimited { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            ClaimError::Send(SendError::InsufficientFunds { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "insufficient_funds")
            }
            ClaimError::Send(SendError::Record { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            ClaimError::Send(SendError::Unreachable { .. }) => {
                (StatusCode::BAD_GATEWAY, "node_unreachable")
            }
            ClaimError::Send(_) => (StatusCode::BAD_GATEWAY, "node_rejected"),
            ClaimError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        };
        Self {
            status,
            code,
            message: e.to_string(),
            retry_after: e.retry_after(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Some(secs) = self.retry_after {
            body["retry_after"] = secs.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The body of `POST /api/claim`.
#[derive(Debug, Deserialize)]
struct ClaimBody {
    address: String,
    #[serde(default)]
    chain_id: Option<u64>,
}

/// The client's IP: the peer, or with `--trust-forwarded-for` the right-most X-Forwarded-For
/// entry (the one the trusted proxy appended) when it is an IP address.
fn client_ip(faucet: &Faucet, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if faucet.config.trust_forwarded_for {
        // Only the right-most entry: everything left of it came from the client unchecked.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// Reads a body of at most [`MAX_BODY`] bytes (see [`opdev_http::read_body`]).
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    opdev_http::read_body(body, MAX_BODY, DRAIN_MAX)
        .await
        .map_err(|e| ApiError::new(e.status(), e.code(), e.to_string()))
}

async fn api_claim(
    State(faucet): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let refuse = |e: ApiError| {
        faucet.metrics.claim(None, ClaimOutcome::Invalid, 0.0);
        tracing::info!(%peer, code = e.code, "claim refused: {}", e.message);
        e.into_response()
    };
    if !content_type_is(&headers, "application/json") {
        return refuse(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the claim as Content-Type: application/json",
        ));
    }
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let claim: ClaimBody = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            return refuse(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("read the claim: {e} (expected {{\"address\": \"0x…\", \"chain_id\": N}})"),
            ));
        }
    };
    let ip = client_ip(&faucet, peer, &headers);
    match faucet.claim(&claim.address, claim.chain_id, ip).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => ApiError::from(&e).into_response(),
    }
}

/// The fields of the HTML form.
#[derive(Debug, Deserialize)]
struct FormBody {
    address: String,
    chain_id: String,
}

/// `POST /claim`: the same checks and statuses as `POST /api/claim`, answered with a page.
async fn form_claim(
    State(faucet): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let refuse = |e: ApiError| {
        faucet.metrics.claim(None, ClaimOutcome::Invalid, 0.0);
        tracing::info!(%peer, code = e.code, "claim refused: {}", e.message);
        (e.status, Html(page::failure(&e.message))).into_response()
    };
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return refuse(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the form as Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let form: FormBody = match serde_urlencoded::from_bytes(&bytes) {
        Ok(f) => f,
        Err(e) => {
            return refuse(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_form",
                format!("read the form: {e} (expected address=0x…&chain_id=N)"),
            ));
        }
    };
    let Ok(chain_id) = form.chain_id.trim().parse::<u64>() else {
        return refuse(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_form",
            "choose a chain from the list",
        ));
    };
    let ip = client_ip(&faucet, peer, &headers);
    match faucet.claim(form.address.trim(), Some(chain_id), ip).await {
        Ok(answer) => Html(page::success(&answer)).into_response(),
        Err(e) => {
            let api = ApiError::from(&e);
            let mut response = (api.status, Html(page::failure(&api.message))).into_response();
            if let Some(secs) = api.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
    }
}

async fn index(State(faucet): State<Shared>) -> Html<String> {
    Html(page::index(&faucet))
}

/// One chain in `GET /api/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// Name in the devnet.
    pub name: String,
    /// Chain id.
    pub chain_id: u64,
    /// Wei per claim (decimal string).
    pub amount: String,
    /// ETH per claim.
    pub amount_eth: String,
    /// The faucet's balance in wei, when the node answered.
    pub balance: Option<String>,
    /// The faucet's balance in ETH, when the node answered.
    pub balance_eth: Option<String>,
    /// Why the balance is missing.
    pub balance_error: Option<String>,
}

/// One limit in `GET /api/info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitInfo {
    /// Claims allowed per window (per chain).
    pub claims: u32,
    /// Window in seconds.
    pub window_secs: u64,
}

/// The limits in `GET /api/info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsInfo {
    /// Per recipient address.
    pub address: LimitInfo,
    /// Per client IP.
    pub ip: LimitInfo,
}

/// `GET /api/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The faucet's address (the same on every chain), EIP-55 checksummed.
    #[serde(serialize_with = "crate::store::checksummed")]
    pub address: alloy::primitives::Address,
    /// Chains served.
    pub chains: Vec<ChainInfo>,
    /// Rate limits.
    pub limits: LimitsInfo,
}

/// ETH with trailing zeros trimmed ("1", "0.25").
pub(crate) fn eth(wei: U256) -> String {
    let s = format_ether(wei);
    match s.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int.to_owned()
            } else {
                format!("{int}.{frac}")
            }
        }
        None => s,
    }
}

/// Reads every chain's balance (bounded) and updates the balance gauge.
async fn balances(faucet: &Faucet) -> Vec<Result<U256, String>> {
    futures::future::join_all(faucet.chains.iter().map(|chain| async move {
        let reading = tokio::time::timeout(BALANCE_TIMEOUT, chain.sender.balance()).await;
        match reading {
            Ok(Ok(wei)) => {
                faucet
                    .metrics
                    .balance(chain.config.chain_id, f64::from(wei));
                Ok(wei)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the node did not answer within 2 s".into()),
        }
    }))
    .await
}

async fn info(State(faucet): State<Shared>) -> Json<Info> {
    let balances = balances(&faucet).await;
    let limits = faucet.config.limits;
    let chains = faucet
        .chains
        .iter()
        .zip(balances)
        .map(|(chain, balance)| ChainInfo {
            name: chain.config.name.clone(),
            chain_id: chain.config.chain_id,
            amount: chain.config.amount.to_string(),
            amount_eth: eth(chain.config.amount),
            balance: balance.as_ref().ok().map(U256::to_string),
            balance_eth: balance.as_ref().ok().map(|w| eth(*w)),
            balance_error: balance.err(),
        })
        .collect();
    Json(Info {
        address: faucet.config.signer.address(),
        chains,
        limits: LimitsInfo {
            address: LimitInfo {
                claims: limits.address.claims,
                window_secs: limits.address.window.as_secs(),
            },
            ip: LimitInfo {
                claims: limits.ip.claims,
                window_secs: limits.ip.window.as_secs(),
            },
        },
    })
}

/// Query of `GET /api/history`.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    address: Option<String>,
    chain_id: Option<u64>,
    limit: Option<u32>,
}

async fn history(
    State(faucet): State<Shared>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text())
                .into_response();
        }
    };
    let address = match query.address.as_deref().map(parse_address).transpose() {
        Ok(a) => a,
        Err(e) => return ApiError::from(&e).into_response(),
    };
    let limit = query.limit.unwrap_or(HISTORY_DEFAULT);
    if !(1..=HISTORY_MAX).contains(&limit) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("limit {limit} is out of range: give 1 to {HISTORY_MAX}"),
        )
        .into_response();
    }
    match faucet.store.history(address, query.chain_id, limit).await {
        Ok(claims) => Json(json!({ "claims": claims })).into_response(),
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            e.to_string(),
        )
        .into_response(),
    }
}

async fn metrics(State(faucet): State<Shared>) -> Response {
    // Refresh the balances if the nodes answer quickly; a node that is down must not make the
    // scrape itself time out (the gauges keep their last reading).
    let _ = tokio::time::timeout(std::time::Duration::from_millis(300), balances(&faucet)).await;
    opdev_http::openmetrics(faucet.metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_is_trimmed() {
        assert_eq!(eth(U256::from(10u128.pow(18))), "1");
        assert_eq!(eth(U256::from(25 * 10u128.pow(16))), "0.25");
        assert_eq!(eth(U256::ZERO), "0");
    }
}
