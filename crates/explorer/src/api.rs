//! The JSON twins of the pages, under `/api/`: each answers the same view its page renders, and
//! failures as `{"error": CODE, "message": TEXT}` with the same status codes.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    AppState,
    error::AppError,
    pages::{self, RawPath, RawQuery, home},
};

fn json_or_error<T: Serialize>(v: Result<T, AppError>) -> Response {
    match v {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.json(),
    }
}

/// `GET /api/chains`: every chain with its heads and lag.
pub async fn chains(State(state): State<AppState>) -> Response {
    let id = state.default_chain().chain_id.to_string();
    json_or_error(home::load(&state, &id).await.map(|v| v.chains))
}

/// `GET /api/chains/{id}`: the home page's data.
pub async fn chain(State(state): State<AppState>, p: RawPath<String>) -> Response {
    json_or_error(
        async {
            let id = pages::path(p)?;
            home::load(&state, &id).await
        }
        .await,
    )
}

/// `GET /api/chains/{id}/blocks/{number or hash}`.
pub async fn block(State(state): State<AppState>, p: RawPath<(String, String)>) -> Response {
    json_or_error(
        async {
            let (id, b) = pages::path(p)?;
            pages::block::load(&state, &id, &b).await
        }
        .await,
    )
}

/// `GET /api/chains/{id}/tx/{hash}`.
pub async fn tx(State(state): State<AppState>, p: RawPath<(String, String)>) -> Response {
    json_or_error(
        async {
            let (id, h) = pages::path(p)?;
            pages::tx::load(&state, &id, &h).await
        }
        .await,
    )
}

/// `GET /api/chains/{id}/address/{address}?page=N`.
pub async fn address(
    State(state): State<AppState>,
    p: RawPath<(String, String)>,
    q: RawQuery,
) -> Response {
    json_or_error(
        async {
            let (id, a) = pages::path(p)?;
            let q = pages::query(q)?;
            pages::address::load(&state, &id, &a, &q).await
        }
        .await,
    )
}

/// `GET /api/search?q=…&chain=…`: where the search leads.
pub async fn search(State(state): State<AppState>, q: RawQuery) -> Response {
    json_or_error(
        async {
            let q = pages::query(q)?;
            pages::search::load(&state, &q).await
        }
        .await,
    )
}
