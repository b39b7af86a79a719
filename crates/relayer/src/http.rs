//! The relayer's HTTP server: `GET /metrics` (OpenMetrics text, [`crate::metrics`]) and
//! `GET /health` (200 with the L2s it serves, as JSON, for as long as the relayer runs: the
//! process ends when one of its loops fails).

use axum::{Json, Router, extract::State, response::IntoResponse, routing::get};
use serde::Serialize;

use crate::metrics::Metrics;

/// One L2 in the `/health` document.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct L2 {
    pub(crate) chain: String,
    pub(crate) chain_id: u64,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) metrics: Metrics,
    pub(crate) l2s: Vec<L2>,
}

pub(crate) fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(state);
    // Timeouts and the one error format of every opdev service.
    opdev_http::harden(router, None)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    opdev_http::openmetrics(state.metrics.encode())
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok", "l2s": state.l2s }))
}
