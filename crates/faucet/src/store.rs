//! The faucet's PostgreSQL store: the idempotent migration, and the `faucet_claims` table in
//! which every claim is recorded (pending → sent or failed). Rate limits are counted from the
//! same table, so a restart of the faucet forgets nothing.
//!
//! A claim is first *reserved*: one statement counts the address's and the client's claims
//! that still count (pending or sent) inside their windows and inserts a pending row only when
//! both are under their limits. Reservations of one chain are serialized inside the process
//! (see [`crate::claim`]), so two simultaneous claims cannot both slip under a limit; one faucet
//! process per database is assumed.

use std::{net::IpAddr, str::FromStr, time::Duration};

use alloy::primitives::{Address, B256, U256};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::{Deserialize, Serialize};
use tokio_postgres::NoTls;

use crate::config::Limits;

/// Why the database did not answer as expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not a PostgreSQL URL.
    #[error("read the database URL: {0}")]
    Url(String),
    /// No connection from the pool.
    #[error("connect to PostgreSQL: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A query failed.
    #[error("query PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// A stored value could not be read back.
    #[error("read a stored claim: {0}")]
    Decode(String),
}

const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS faucet_claims (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    chain_id  BIGINT NOT NULL,
    address   TEXT NOT NULL,
    client_ip INET NOT NULL,
    amount    NUMERIC(78, 0) NOT NULL,
    tx_hash   TEXT,
    nonce     BIGINT,
    outcome   TEXT NOT NULL CHECK (outcome IN ('pending', 'sent', 'failed')),
    error     TEXT
);
CREATE INDEX IF NOT EXISTS faucet_claims_by_address ON faucet_claims (chain_id, address, at);
CREATE INDEX IF NOT EXISTS faucet_claims_by_ip ON faucet_claims (chain_id, client_ip, at);
CREATE INDEX IF NOT EXISTS faucet_claims_by_time ON faucet_claims (at);
";

/// Advisory lock key that serializes concurrent migrations ("opdevfct").
const MIGRATION_LOCK: i64 = 0x6f70_6465_7666_6374;

/// Outcome of a recorded claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Reserved, transfer not sent yet (counts against the limits).
    Pending,
    /// The transfer was accepted by the node (counts against the limits).
    Sent,
    /// Nothing was sent (does not count against the limits).
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for Outcome {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Decode(format!("unknown outcome {other:?}"))),
        }
    }
}

/// One recorded claim, as `GET /api/history` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// Row id (increasing).
    pub id: i64,
    /// When it was made (RFC 3339, UTC).
    pub at: String,
    /// Chain id.
    pub chain_id: u64,
    /// Recipient (EIP-55 checksummed).
    #[serde(serialize_with = "checksummed")]
    pub address: Address,
    /// Client IP it came from.
    pub client_ip: IpAddr,
    /// Wei (decimal string).
    pub amount: String,
    /// The transfer, once sent.
    pub tx_hash: Option<B256>,
    /// Nonce used, once sent.
    pub nonce: Option<u64>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it failed.
    pub error: Option<String>,
}

/// Serializes an address with its EIP-55 checksum (serde's default is lowercase).
pub(crate) fn checksummed<S: serde::Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_checksum(None))
}

/// A row left `pending` (by a crash of the faucet, or a failed write after the send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingClaim {
    /// Row id.
    pub id: i64,
    /// Chain id.
    pub chain_id: u64,
    /// The transfer signed for it, when one was (recorded just before it went to the node).
    pub tx_hash: Option<B256>,
    /// Its nonce.
    pub nonce: Option<u64>,
}

/// Which limit refused a claim, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address's limit.
    Address {
        /// Seconds until a claim is possible again.
        retry_after: u64,
    },
    /// The client IP's limit.
    Ip {
        /// Seconds until a claim is possible again.
        retry_after: u64,
    },
}

/// The store: a connection pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Store")
            .field("max_size", &self.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the pool (connections open lazily).
    pub fn new(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Url(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Creates the table and indexes when missing (safe to run any number of times, also
    /// concurrently).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let result = client.batch_execute(MIGRATION).await;
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await?;
        Ok(result?)
    }

    /// Records a pending claim when both limits allow it; otherwise says which limit refused.
    /// Callers serialize reservations per chain.
    pub async fn reserve(
        &self,
        chain_id: u64,
        address: Address,
        client_ip: IpAddr,
        amount: U256,
        limits: &Limits,
    ) -> Result<Result<i64, Refusal>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "WITH a AS (
                    SELECT count(*) AS n, min(at) AS first FROM faucet_claims
                    WHERE chain_id = $1 AND address = $2 AND outcome <> 'failed'
                      AND at > now() - make_interval(secs => $5::float8)),
                 i AS (
                    SELECT count(*) AS n, min(at) AS first FROM faucet_claims
                    WHERE chain_id = $1 AND client_ip = $3 AND outcome <> 'failed'
                      AND at > now() - make_interval(secs => $7::float8)),
                 ins AS (
                    INSERT INTO faucet_claims (chain_id, address, client_ip, amount, outcome)
                    SELECT $1, $2, $3, $4::text::numeric, 'pending'
                    WHERE (SELECT n FROM a) < $6 AND (SELECT n FROM i) < $8
                    RETURNING id)
                 SELECT (SELECT id FROM ins),
                        a.n, ceil(extract(epoch FROM
                            a.first + make_interval(secs => $5::float8) - now()))::float8,
                        i.n, ceil(extract(epoch FROM
                            i.first + make_interval(secs => $7::float8) - now()))::float8
                 FROM a, i",
            )
            .await?;
        let row = client
            .query_one(
                &statement,
                &[
                    &(chain_id as i64),
                    &address.to_string(),
                    &client_ip,
                    &amount.to_string(),
                    &limits.address.window.as_secs_f64(),
                    &i64::from(limits.address.claims),
                    &limits.ip.window.as_secs_f64(),
                    &i64::from(limits.ip.claims),
                ],
            )
            .await?;
        if let Some(id) = row.get::<_, Option<i64>>(0) {
            return Ok(Ok(id));
        }
        let secs = |v: Option<f64>| v.map_or(1, |s| s.max(1.0) as u64);
        let (address_n, ip_n): (i64, i64) = (row.get(1), row.get(3));
        if address_n >= i64::from(limits.address.claims) {
            Ok(Err(Refusal::Address {
                retry_after: secs(row.get(2)),
            }))
        } else {
            debug_assert!(ip_n >= i64::from(limits.ip.claims));
            Ok(Err(Refusal::Ip {
                retry_after: secs(row.get(4)),
            }))
        }
    }

    /// Marks a reserved claim as sent.
    pub async fn mark_sent(&self, id: i64, tx_hash: B256, nonce: u64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "UPDATE faucet_claims SET outcome = $2, tx_hash = $3, nonce = $4 WHERE id = $1",
            )
            .await?;
        client
            .execute(
                &statement,
                &[
                    &id,
                    &Outcome::Sent.as_str(),
                    &tx_hash.to_string(),
                    &(nonce as i64),
                ],
            )
            .await?;
        Ok(())
    }

    /// Records on a pending claim the transfer about to be sent (hash and nonce), before it goes
    /// to the node: a crash between the send and [`Store::mark_sent`] then leaves the hash to
    /// look up at the next start.
    pub async fn record_intent(
        &self,
        id: i64,
        tx_hash: B256,
        nonce: u64,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "UPDATE faucet_claims SET tx_hash = $2, nonce = $3 WHERE id = $1 AND outcome = 'pending'",
            )
            .await?;
        client
            .execute(&statement, &[&id, &tx_hash.to_string(), &(nonce as i64)])
            .await?;
        Ok(())
    }

    /// Every claim still `pending`, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingClaim>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, chain_id, tx_hash, nonce FROM faucet_claims
                 WHERE outcome = 'pending' ORDER BY id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let tx_hash: Option<String> = row.get(2);
                Ok(PendingClaim {
                    id: row.get(0),
                    chain_id: row.get::<_, i64>(1) as u64,
                    tx_hash: tx_hash
                        .map(|h| {
                            h.parse()
                                .map_err(|e| StoreError::Decode(format!("tx hash: {e}")))
                        })
                        .transpose()?,
                    nonce: row.get::<_, Option<i64>>(3).map(|n| n as u64),
                })
            })
            .collect()
    }

    /// Marks a reserved claim as failed (it no longer counts against the limits); a transfer
    /// signed for it and not sent is forgotten.
    pub async fn mark_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "UPDATE faucet_claims SET outcome = $2, error = $3, tx_hash = NULL, nonce = NULL
                 WHERE id = $1",
            )
            .await?;
        client
            .execute(&statement, &[&id, &Outcome::Failed.as_str(), &error])
            .await?;
        Ok(())
    }

    /// The latest claims, newest first, optionally of one address and/or one chain.
    pub async fn history(
        &self,
        address: Option<Address>,
        chain_id: Option<u64>,
        limit: u32,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                        chain_id, address, client_ip, amount::text, tx_hash, nonce, outcome, error
                 FROM faucet_claims
                 WHERE ($1::text IS NULL OR address = $1) AND ($2::bigint IS NULL OR chain_id = $2)
                 ORDER BY id DESC LIMIT $3",
                &[
                    &address.map(|a| a.to_string()),
                    &chain_id.map(|c| c as i64),
                    &i64::from(limit),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let decode = |what: &str, e: &dyn std::fmt::Display| {
                    StoreError::Decode(format!("{what}: {e}"))
                };
                let address: String = row.get(3);
                let tx_hash: Option<String> = row.get(6);
                let outcome: String = row.get(8);
                Ok(ClaimRecord {
                    id: row.get(0),
                    at: row.get(1),
                    chain_id: row.get::<_, i64>(2) as u64,
                    address: address.parse().map_err(|e| decode("address", &e))?,
                    client_ip: row.get(4),
                    amount: row.get(5),
                    tx_hash: tx_hash
                        .map(|h| h.parse().map_err(|e| decode("tx hash", &e)))
                        .transpose()?,
                    nonce: row.get::<_, Option<i64>>(7).map(|n| n as u64),
                    outcome: outcome.parse()?,
                    error: row.get(9),
                })
            })
            .collect()
    }
}
