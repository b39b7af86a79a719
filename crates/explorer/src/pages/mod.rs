//! The pages. Each module loads a view (a serializable struct, also the JSON twin's body) from
//! raw request values and renders it as HTML; this module holds the HTML handlers and the
//! helpers that turn extractor rejections into our own 400s.

pub mod address;
pub mod block;
pub mod home;
pub mod search;
pub mod tx;

use std::collections::HashMap;

use axum::{
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};

use crate::{AppState, error::AppError};

/// A path extractor whose failure we answer ourselves.
pub type RawPath<T> = Result<Path<T>, PathRejection>;
/// A query extractor whose failure we answer ourselves.
pub type RawQuery = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The path values, or a 400.
pub fn path<T>(p: RawPath<T>) -> Result<T, AppError> {
    p.map(|Path(t)| t)
        .map_err(|_| AppError::BadRequest("malformed path".into()))
}

/// The query parameters, or a 400.
pub fn query(q: RawQuery) -> Result<HashMap<String, String>, AppError> {
    q.map(|Query(m)| m)
        .map_err(|_| AppError::BadRequest("malformed query string".into()))
}

fn html_or_error(state: &AppState, page: Result<String, AppError>) -> Response {
    match page {
        Ok(body) => Html(body).into_response(),
        Err(e) => e.html(state),
    }
}

/// `GET /`: the default chain's home page.
pub async fn index(State(state): State<AppState>) -> Response {
    let chain = state.default_chain().chain_id.to_string();
    let page = home::load(&state, &chain)
        .await
        .map(|v| home::render(&state, &v));
    html_or_error(&state, page)
}

/// `GET /chains/{id}`.
pub async fn chain(State(state): State<AppState>, p: RawPath<String>) -> Response {
    let page = async {
        let id = path(p)?;
        home::load(&state, &id)
            .await
            .map(|v| home::render(&state, &v))
    }
    .await;
    html_or_error(&state, page)
}

/// `GET /chains/{id}/blocks/{number or hash}`.
pub async fn block(State(state): State<AppState>, p: RawPath<(String, String)>) -> Response {
    let page = async {
        let (id, block) = path(p)?;
        block::load(&state, &id, &block)
            .await
            .map(|v| block::render(&state, &v))
    }
    .await;
    html_or_error(&state, page)
}

/// `GET /chains/{id}/tx/{hash}`.
pub async fn tx(State(state): State<AppState>, p: RawPath<(String, String)>) -> Response {
    let page = async {
        let (id, hash) = path(p)?;
        tx::load(&state, &id, &hash)
            .await
            .map(|v| tx::render(&state, &v))
    }
    .await;
    html_or_error(&state, page)
}

/// `GET /chains/{id}/address/{address}?page=N`.
pub async fn address(
    State(state): State<AppState>,
    p: RawPath<(String, String)>,
    q: RawQuery,
) -> Response {
    let page = async {
        let (id, addr) = path(p)?;
        let q = query(q)?;
        address::load(&state, &id, &addr, &q)
            .await
            .map(|v| address::render(&state, &v))
    }
    .await;
    html_or_error(&state, page)
}

/// `GET /search?q=…&chain=…`: 303 to the page found, or a page saying nothing was.
pub async fn search(State(state): State<AppState>, q: RawQuery) -> Response {
    let found = async {
        let q = query(q)?;
        search::load(&state, &q).await
    }
    .await;
    match found {
        Ok(hit) => Redirect::to(&hit.url).into_response(),
        Err(e) => e.html(&state),
    }
}

/// `GET /style.css`.
pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::html::STYLE,
    )
        .into_response()
}

/// `GET /health`: 200 when the database answers, else 503.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Anything else: 404, as JSON under `/api/`, else as a page.
pub async fn fallback(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    let e = AppError::NotFound("no such page".into());
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        e.json()
    } else {
        e.html(&state)
    }
}
