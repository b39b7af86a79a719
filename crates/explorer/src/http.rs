//! The router: pages, their JSON twins under `/api/`, the stylesheet, `/health`, and a 404 for
//! everything else.

use axum::{Router, routing::get};

use crate::{AppState, api, pages};

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/chains/{id}", get(pages::chain))
        .route("/chains/{id}/blocks/{block}", get(pages::block))
        .route("/chains/{id}/tx/{hash}", get(pages::tx))
        .route("/chains/{id}/address/{address}", get(pages::address))
        .route("/search", get(pages::search))
        .route("/api/chains", get(api::chains))
        .route("/api/chains/{id}", get(api::chain))
        .route("/api/chains/{id}/blocks/{block}", get(api::block))
        .route("/api/chains/{id}/tx/{hash}", get(api::tx))
        .route("/api/chains/{id}/address/{address}", get(api::address))
        .route("/api/search", get(api::search))
        .route("/style.css", get(pages::style))
        .route("/health", get(pages::health))
        .fallback(pages::fallback)
        .with_state(state)
}
