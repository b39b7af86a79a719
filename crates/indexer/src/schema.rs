//! The database schema and its migrations. Migrations are numbered SQL scripts applied in order,
//! each at most once, recorded in `schema_version`; they run at every (re)connection under a
//! transaction-scoped advisory lock, so several indexers starting at once do not race and a
//! database that is already up to date costs one query. `docs/schema.md` documents the tables.

use tokio_postgres::Client;

/// Advisory lock key that serialises migrations ("opdevidx").
const MIGRATION_LOCK: i64 = 0x6f70_6465_7669_6478;

/// The migrations: (version, SQL). Append only; never edit a released one.
pub const MIGRATIONS: &[(i32, &str)] = &[(1, V1), (2, V2)];

/// The latest schema version.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

const V1: &str = r#"
CREATE TABLE IF NOT EXISTS chains (
    chain_id    BIGINT PRIMARY KEY,
    name        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS checkpoints (
    chain_id    BIGINT PRIMARY KEY,
    number      BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS blocks (
    chain_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    parent_hash BYTEA NOT NULL,
    timestamp   BIGINT NOT NULL,
    miner       BYTEA NOT NULL,
    gas_used    NUMERIC(78,0) NOT NULL,
    gas_limit   NUMERIC(78,0) NOT NULL,
    base_fee    NUMERIC(78,0),
    tx_count    INTEGER NOT NULL,
    extra_data  BYTEA NOT NULL,
    PRIMARY KEY (chain_id, number)
);
CREATE INDEX IF NOT EXISTS blocks_hash ON blocks (hash);
CREATE INDEX IF NOT EXISTS blocks_timestamp ON blocks (chain_id, timestamp);

CREATE TABLE IF NOT EXISTS transactions (
    chain_id                 BIGINT NOT NULL,
    block_number             BIGINT NOT NULL,
    tx_index                 INTEGER NOT NULL,
    hash                     BYTEA NOT NULL,
    block_hash               BYTEA NOT NULL,
    type                     SMALLINT NOT NULL,
    from_address             BYTEA NOT NULL,
    to_address               BYTEA,
    contract_address         BYTEA,
    value                    NUMERIC(78,0) NOT NULL,
    nonce                    BIGINT,
    gas                      NUMERIC(78,0) NOT NULL,
    gas_price                NUMERIC(78,0),
    max_fee_per_gas          NUMERIC(78,0),
    max_priority_fee_per_gas NUMERIC(78,0),
    effective_gas_price      NUMERIC(78,0),
    gas_used                 NUMERIC(78,0) NOT NULL,
    cumulative_gas_used      NUMERIC(78,0) NOT NULL,
    status                   SMALLINT,
    input                    BYTEA NOT NULL,
    log_count                INTEGER NOT NULL,
    source_hash              BYTEA,
    mint                     NUMERIC(78,0),
    is_system_tx             BOOLEAN,
    deposit_nonce            BIGINT,
    l1_fee                   NUMERIC(78,0),
    l1_gas_used              NUMERIC(78,0),
    l1_gas_price             NUMERIC(78,0),
    PRIMARY KEY (chain_id, block_number, tx_index)
);
CREATE INDEX IF NOT EXISTS transactions_hash ON transactions (hash);
CREATE INDEX IF NOT EXISTS transactions_from ON transactions (chain_id, from_address, block_number);
CREATE INDEX IF NOT EXISTS transactions_to ON transactions (chain_id, to_address, block_number);
CREATE INDEX IF NOT EXISTS transactions_contract ON transactions (chain_id, contract_address)
    WHERE contract_address IS NOT NULL;

CREATE TABLE IF NOT EXISTS logs (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index    INTEGER NOT NULL,
    block_hash   BYTEA NOT NULL,
    tx_hash      BYTEA NOT NULL,
    tx_index     INTEGER NOT NULL,
    address      BYTEA NOT NULL,
    topic0       BYTEA,
    topic1       BYTEA,
    topic2       BYTEA,
    topic3       BYTEA,
    data         BYTEA NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX IF NOT EXISTS logs_tx ON logs (tx_hash);
CREATE INDEX IF NOT EXISTS logs_address ON logs (chain_id, address, block_number);
CREATE INDEX IF NOT EXISTS logs_topic0 ON logs (chain_id, topic0, block_number);
"#;

/// The bridge: each OptimismPortal `TransactionDeposited` log carries the source hash of the L2
/// deposit it makes (filled by the indexer as it writes logs; rows written before this version
/// are filled by [`crate::store::connect`]), and deposits are found by source hash.
const V2: &str = r#"
ALTER TABLE logs ADD COLUMN IF NOT EXISTS deposit_source BYTEA;
CREATE INDEX IF NOT EXISTS logs_deposit_source ON logs (deposit_source)
    WHERE deposit_source IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_source_hash ON transactions (source_hash)
    WHERE source_hash IS NOT NULL;
"#;

/// Brings the schema up to [`latest_version`]; returns the versions it applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[version],
        )
        .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}
