//! Every query the explorer makes, read-only and parameterized, over the indexer's tables
//! (`docs/schema.md`). NUMERIC amounts are read as text (`::text`) so no precision is lost, and
//! hashes and addresses are turned into `0x`-prefixed lowercase hex here; the rest of the crate
//! sees plain serializable structs.

use std::{str::FromStr, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::Serialize;
use tokio_postgres::{NoTls, Row};

use crate::decode::{self, Event};

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The URL does not parse.
    #[error("bad database URL: {0}")]
    Url(String),
    /// No connection could be had.
    #[error("connect to the database: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A query failed.
    #[error("query: {0}")]
    Query(#[from] tokio_postgres::Error),
}

/// `0x` + lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn hex_opt(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(|b| hex(&b))
}

/// A block in a list.
#[derive(Debug, Clone, Serialize)]
pub struct BlockSummary {
    /// Number.
    pub number: i64,
    /// Hash.
    pub hash: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// Fee recipient.
    pub miner: String,
    /// Transactions in it.
    pub tx_count: i32,
    /// Gas used.
    pub gas_used: String,
}

const BLOCK_SUMMARY: &str = "number, hash, timestamp, miner, tx_count, gas_used::text";

fn block_summary(r: &Row) -> BlockSummary {
    BlockSummary {
        number: r.get(0),
        hash: hex(r.get(1)),
        timestamp: r.get(2),
        miner: hex(r.get(3)),
        tx_count: r.get(4),
        gas_used: r.get(5),
    }
}

/// A whole block header as indexed.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    /// Number, hash, time, miner, count, gas used.
    #[serde(flatten)]
    pub summary: BlockSummary,
    /// Parent hash.
    pub parent_hash: String,
    /// Gas limit.
    pub gas_limit: String,
    /// Base fee per gas (wei), if the chain has one.
    pub base_fee: Option<String>,
    /// Extra data.
    pub extra_data: String,
}

/// A transaction in a list.
#[derive(Debug, Clone, Serialize)]
pub struct TxSummary {
    /// Hash.
    pub hash: String,
    /// Block number.
    pub block_number: i64,
    /// Position in the block.
    pub tx_index: i32,
    /// Type (126 = OP deposit).
    #[serde(rename = "type")]
    pub tx_type: i16,
    /// Sender.
    pub from: String,
    /// Recipient (none for a creation).
    pub to: Option<String>,
    /// Contract created.
    pub contract_address: Option<String>,
    /// Value in wei.
    pub value: String,
    /// 1 success, 0 reverted.
    pub status: Option<i16>,
}

impl TxSummary {
    /// Whether this is an OP deposit transaction (type 0x7e).
    pub fn is_deposit(&self) -> bool {
        self.tx_type == DEPOSIT_TYPE
    }
}

/// The OP deposit transaction type.
pub const DEPOSIT_TYPE: i16 = 0x7e;

const TX_SUMMARY: &str = "t.hash, t.block_number, t.tx_index, t.type, t.from_address, \
    t.to_address, t.contract_address, t.value::text, t.status";

fn tx_summary(r: &Row) -> TxSummary {
    TxSummary {
        hash: hex(r.get(0)),
        block_number: r.get(1),
        tx_index: r.get(2),
        tx_type: r.get(3),
        from: hex(r.get(4)),
        to: hex_opt(r.get(5)),
        contract_address: hex_opt(r.get(6)),
        value: r.get(7),
        status: r.get(8),
    }
}

/// OP deposit fields.
#[derive(Debug, Clone, Serialize)]
pub struct Deposit {
    /// Source hash.
    pub source_hash: Option<String>,
    /// Wei minted on L2.
    pub mint: Option<String>,
    /// System transaction flag.
    pub is_system_tx: Option<bool>,
    /// Deposit nonce from the receipt.
    pub deposit_nonce: Option<i64>,
}

/// A whole transaction with its receipt.
#[derive(Debug, Clone, Serialize)]
pub struct Tx {
    /// The list fields.
    #[serde(flatten)]
    pub summary: TxSummary,
    /// Block hash.
    pub block_hash: String,
    /// Sender nonce.
    pub nonce: Option<i64>,
    /// Gas limit.
    pub gas: String,
    /// Gas used.
    pub gas_used: String,
    /// Gas price as the node reported it.
    pub gas_price: Option<String>,
    /// EIP-1559 fee cap.
    pub max_fee_per_gas: Option<String>,
    /// EIP-1559 tip cap.
    pub max_priority_fee_per_gas: Option<String>,
    /// Price paid per gas.
    pub effective_gas_price: Option<String>,
    /// Fee paid in wei: gas used × effective price, plus the L1 fee on an OP chain; 0 for a deposit.
    pub fee: String,
    /// OP L1 data fee.
    pub l1_fee: Option<String>,
    /// Call data.
    pub input: String,
    /// Logs emitted.
    pub log_count: i32,
    /// OP deposit fields (type 0x7e only).
    pub deposit: Option<Deposit>,
}

/// A log, decoded when its event is known.
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    /// Position in the block.
    pub log_index: i32,
    /// Emitting contract.
    pub address: String,
    /// Topics.
    pub topics: Vec<String>,
    /// Data.
    pub data: String,
    /// The decoded event, when known.
    pub event: Option<Event>,
}

/// The L1 log behind an L2 deposit.
#[derive(Debug, Clone, Serialize)]
pub struct DepositOrigin {
    /// The L1's chain id.
    pub chain_id: u64,
    /// The L1 transaction.
    pub tx_hash: String,
    /// Its block.
    pub block_number: i64,
    /// The `TransactionDeposited` log's position in that block.
    pub log_index: i32,
}

/// A deposit an L1 transaction made.
#[derive(Debug, Clone, Serialize)]
pub struct DepositMade {
    /// The `TransactionDeposited` log's position in its block.
    pub log_index: i32,
    /// The source hash of the L2 deposit it makes.
    pub source_hash: String,
    /// The L2 that holds that deposit, when indexed.
    pub l2_chain_id: Option<u64>,
    /// The L2 deposit transaction, when indexed.
    pub l2_tx_hash: Option<String>,
}

/// A log found by [`Db::events_about`].
#[derive(Debug, Clone)]
pub struct EventAt {
    /// Its transaction.
    pub tx_hash: String,
    /// Its block.
    pub block_number: i64,
    /// Its data.
    pub data: Vec<u8>,
}

/// A chain's indexing checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// Last block indexed.
    pub number: i64,
    /// Its hash.
    pub hash: String,
}

/// The connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Db")
            .field("max_size", &self.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

/// What a 32-byte hash turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// A block.
    Block,
    /// A transaction.
    Tx,
}

impl Db {
    /// Builds the pool (connections open lazily).
    pub fn new(url: &str, max_size: usize) -> Result<Self, DbError> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Url(e.to_string()))?;
        config.connect_timeout(Duration::from_secs(3));
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
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(3)))
            .recycle_timeout(Some(Duration::from_secs(3)))
            .build()
            .map_err(|e| DbError::Url(e.to_string()))?;
        Ok(Self { pool })
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, DbError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query(&stmt, params).await?)
    }

    /// One round trip (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.query("SELECT 1", &[]).await.map(drop)
    }

    /// The chain's checkpoint, if anything is indexed.
    pub async fn checkpoint(&self, chain: i64) -> Result<Option<Checkpoint>, DbError> {
        let rows = self
            .query(
                "SELECT number, hash FROM checkpoints WHERE chain_id = $1",
                &[&chain],
            )
            .await?;
        Ok(rows.first().map(|r| Checkpoint {
            number: r.get(0),
            hash: hex(r.get(1)),
        }))
    }

    /// The newest `limit` blocks.
    pub async fn latest_blocks(
        &self,
        chain: i64,
        limit: i64,
    ) -> Result<Vec<BlockSummary>, DbError> {
        let sql = format!(
            "SELECT {BLOCK_SUMMARY} FROM blocks WHERE chain_id = $1 ORDER BY number DESC LIMIT $2"
        );
        let rows = self.query(&sql, &[&chain, &limit]).await?;
        Ok(rows.iter().map(block_summary).collect())
    }

    /// The newest `limit` transactions.
    pub async fn latest_txs(&self, chain: i64, limit: i64) -> Result<Vec<TxSummary>, DbError> {
        let sql = format!(
            "SELECT {TX_SUMMARY} FROM transactions t WHERE t.chain_id = $1 \
             ORDER BY t.block_number DESC, t.tx_index DESC LIMIT $2"
        );
        let rows = self.query(&sql, &[&chain, &limit]).await?;
        Ok(rows.iter().map(tx_summary).collect())
    }

    async fn block_where(
        &self,
        cond: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Block>, DbError> {
        let sql = format!(
            "SELECT {BLOCK_SUMMARY}, parent_hash, gas_limit::text, base_fee::text, extra_data \
             FROM blocks WHERE chain_id = $1 AND {cond} LIMIT 1"
        );
        let rows = self.query(&sql, params).await?;
        Ok(rows.first().map(|r| Block {
            summary: block_summary(r),
            parent_hash: hex(r.get(6)),
            gas_limit: r.get(7),
            base_fee: r.get(8),
            extra_data: hex(r.get(9)),
        }))
    }

    /// A block by number.
    pub async fn block_by_number(&self, chain: i64, number: i64) -> Result<Option<Block>, DbError> {
        self.block_where("number = $2", &[&chain, &number]).await
    }

    /// A block by hash.
    pub async fn block_by_hash(&self, chain: i64, hash: &[u8]) -> Result<Option<Block>, DbError> {
        self.block_where("hash = $2", &[&chain, &hash]).await
    }

    /// The first `limit` transactions of a block, in order.
    pub async fn block_txs(
        &self,
        chain: i64,
        number: i64,
        limit: i64,
    ) -> Result<Vec<TxSummary>, DbError> {
        let sql = format!(
            "SELECT {TX_SUMMARY} FROM transactions t WHERE t.chain_id = $1 AND t.block_number = $2 \
             ORDER BY t.tx_index LIMIT $3"
        );
        let rows = self.query(&sql, &[&chain, &number, &limit]).await?;
        Ok(rows.iter().map(tx_summary).collect())
    }

    /// A transaction by hash (the lowest block holding it, should a dev node have put it twice).
    pub async fn tx(&self, chain: i64, hash: &[u8]) -> Result<Option<Tx>, DbError> {
        let sql = format!(
            "SELECT {TX_SUMMARY}, t.block_hash, t.nonce, t.gas::text, t.gas_used::text, \
             t.gas_price::text, t.max_fee_per_gas::text, t.max_priority_fee_per_gas::text, \
             t.effective_gas_price::text, \
             (CASE WHEN t.type = 126 THEN 0 ELSE t.gas_used * COALESCE(t.effective_gas_price, \
              t.gas_price, 0) + COALESCE(t.l1_fee, 0) END)::text, \
             t.l1_fee::text, t.input, t.log_count, t.source_hash, t.mint::text, t.is_system_tx, \
             t.deposit_nonce \
             FROM transactions t WHERE t.chain_id = $1 AND t.hash = $2 \
             ORDER BY t.block_number LIMIT 1"
        );
        let rows = self.query(&sql, &[&chain, &hash]).await?;
        Ok(rows.first().map(|r| {
            let summary = tx_summary(r);
            let deposit = summary.is_deposit().then(|| Deposit {
                source_hash: hex_opt(r.get(21)),
                mint: r.get(22),
                is_system_tx: r.get(23),
                deposit_nonce: r.get(24),
            });
            Tx {
                summary,
                block_hash: hex(r.get(9)),
                nonce: r.get(10),
                gas: r.get(11),
                gas_used: r.get(12),
                gas_price: r.get(13),
                max_fee_per_gas: r.get(14),
                max_priority_fee_per_gas: r.get(15),
                effective_gas_price: r.get(16),
                fee: r.get(17),
                l1_fee: r.get(18),
                input: hex(r.get(19)),
                log_count: r.get(20),
                deposit,
            }
        }))
    }

    /// The L1 log that made the deposit with source hash `source` (the indexer's
    /// `logs.deposit_source`), if it is indexed.
    pub async fn deposit_origin(&self, source: &[u8]) -> Result<Option<DepositOrigin>, DbError> {
        let rows = self
            .query(
                "SELECT chain_id, tx_hash, block_number, log_index FROM logs \
                 WHERE deposit_source = $1 ORDER BY chain_id, block_number LIMIT 1",
                &[&source],
            )
            .await?;
        Ok(rows.first().map(|r| DepositOrigin {
            chain_id: r.get::<_, i64>(0) as u64,
            tx_hash: hex(r.get(1)),
            block_number: r.get(2),
            log_index: r.get(3),
        }))
    }

    /// The deposits that the logs of transaction `hash` (in block `block_number` of `chain`)
    /// make, with the L2 transaction of each when one is indexed.
    pub async fn deposits_made(
        &self,
        chain: i64,
        block_number: i64,
        hash: &[u8],
    ) -> Result<Vec<DepositMade>, DbError> {
        let rows = self
            .query(
                "SELECT l.log_index, l.deposit_source, t.chain_id, t.hash FROM logs l \
                 LEFT JOIN transactions t ON t.source_hash = l.deposit_source \
                 WHERE l.chain_id = $1 AND l.block_number = $2 AND l.tx_hash = $3 \
                 AND l.deposit_source IS NOT NULL ORDER BY l.log_index, t.chain_id",
                &[&chain, &block_number, &hash],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DepositMade {
                log_index: r.get(0),
                source_hash: hex(r.get(1)),
                l2_chain_id: r.get::<_, Option<i64>>(2).map(|c| c as u64),
                l2_tx_hash: hex_opt(r.get(3)),
            })
            .collect())
    }

    /// The transactions in which `contract` of `chain` emitted an event with signature `topic0`
    /// and `topic1` as its first indexed value, oldest first.
    pub async fn events_about(
        &self,
        chain: i64,
        contract: &[u8],
        topic0: &[u8],
        topic1: &[u8],
    ) -> Result<Vec<EventAt>, DbError> {
        let rows = self
            .query(
                "SELECT tx_hash, block_number, data FROM logs WHERE chain_id = $1 \
                 AND topic0 = $2 AND topic1 = $3 AND address = $4 \
                 ORDER BY block_number, log_index",
                &[&chain, &topic0, &topic1, &contract],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| EventAt {
                tx_hash: hex(r.get(0)),
                block_number: r.get(1),
                data: r.get(2),
            })
            .collect())
    }

    /// The logs of a transaction, decoded where known.
    pub async fn tx_logs(
        &self,
        chain: i64,
        block_number: i64,
        hash: &[u8],
    ) -> Result<Vec<Log>, DbError> {
        let rows = self
            .query(
                "SELECT log_index, address, topic0, topic1, topic2, topic3, data FROM logs \
                 WHERE chain_id = $1 AND block_number = $2 AND tx_hash = $3 ORDER BY log_index",
                &[&chain, &block_number, &hash],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let topics: Vec<Vec<u8>> = (2..6)
                    .map_while(|i| r.get::<_, Option<Vec<u8>>>(i))
                    .collect();
                let data: Vec<u8> = r.get(6);
                Log {
                    log_index: r.get(0),
                    address: hex(r.get(1)),
                    event: decode::decode(&topics, &data),
                    topics: topics.iter().map(|t| hex(t)).collect(),
                    data: hex(&data),
                }
            })
            .collect())
    }

    /// Transactions sent by, sent to, or creating `address`, newest first: `limit` of them after
    /// skipping `offset`.
    pub async fn address_txs(
        &self,
        chain: i64,
        address: &[u8],
        offset: i64,
        limit: i64,
    ) -> Result<Vec<TxSummary>, DbError> {
        // One index scan per role, each bounded, then merged: cheaper than an OR over a big
        // history that would have to be sorted whole.
        let sql = format!(
            "WITH k AS ( \
               (SELECT block_number, tx_index FROM transactions WHERE chain_id = $1 \
                AND from_address = $2 ORDER BY block_number DESC, tx_index DESC LIMIT $3) \
               UNION \
               (SELECT block_number, tx_index FROM transactions WHERE chain_id = $1 \
                AND to_address = $2 ORDER BY block_number DESC, tx_index DESC LIMIT $3) \
               UNION \
               (SELECT block_number, tx_index FROM transactions WHERE chain_id = $1 \
                AND contract_address = $2 ORDER BY block_number DESC, tx_index DESC LIMIT $3)) \
             SELECT {TX_SUMMARY} FROM k JOIN transactions t ON t.chain_id = $1 \
               AND t.block_number = k.block_number AND t.tx_index = k.tx_index \
             ORDER BY t.block_number DESC, t.tx_index DESC LIMIT $4 OFFSET $5"
        );
        let window = offset + limit;
        let rows = self
            .query(&sql, &[&chain, &address, &window, &limit, &offset])
            .await?;
        Ok(rows.iter().map(tx_summary).collect())
    }

    /// The chains holding a block or a transaction with this hash (blocks first).
    pub async fn find_hash(&self, hash: &[u8]) -> Result<Vec<(HashKind, i64)>, DbError> {
        let rows = self
            .query(
                "(SELECT 0::int, chain_id FROM blocks WHERE hash = $1 LIMIT 16) \
                 UNION ALL (SELECT 1::int, chain_id FROM transactions WHERE hash = $1 LIMIT 16)",
                &[&hash],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind = if r.get::<_, i32>(0) == 0 {
                    HashKind::Block
                } else {
                    HashKind::Tx
                };
                (kind, r.get(1))
            })
            .collect())
    }
}
