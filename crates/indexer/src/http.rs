//! The indexer's HTTP server: `GET /metrics` (Prometheus text) and `GET /health` (JSON, 200
//! while at least one chain is indexing, 503 once every chain has stopped). Any other path or
//! method is answered `{"error": CODE, "message": TEXT}` by `opdev_http::harden`.

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};

use crate::{metrics::Metrics, status::Health, status::StatusCell};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) metrics: Metrics,
    pub(crate) chains: Vec<StatusCell>,
}

impl AppState {
    pub(crate) fn health(&self) -> Health {
        Health {
            chains: self.chains.iter().map(StatusCell::get).collect(),
        }
    }
}

pub(crate) fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(state);
    opdev_http::harden(router, None)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    opdev_http::openmetrics(state.metrics.encode())
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let health = state.health();
    let code = if health.is_up() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(health))
}
