//! The router: pages, their JSON twins under `/api/`, the stylesheet, `/health`, and a 404 for
//! everything else; `opdev_http::harden` gives every other error (a 405, a body that never
//! arrives) the explorer's format too.

use std::sync::Arc;

use axum::{Router, routing::get};

use crate::{AppState, api, error, pages};

/// Every route.
pub fn router(state: AppState) -> Router {
    let page_state = state.clone();
    let page: opdev_http::PageFn =
        Arc::new(move |status, message| error::error_page(&page_state, status, message));
    let router = Router::new()
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
        .with_state(state);
    opdev_http::harden(router, Some(page))
}
