//! The database side: one connection per chain indexer, prepared statements, and the two writes
//! the indexer makes. [`Store::commit`] writes a run of consecutive blocks (blocks, transactions
//! with their receipts, logs) and moves the chain's checkpoint to the last of them, in one
//! transaction; [`Store::rewind`] deletes everything above a block and moves the checkpoint back
//! to it, in one transaction. Both first lock the checkpoint row and check it is where the
//! indexer believes it is, and both delete any row above the checkpoint before inserting, so a
//! replay after a crash cannot duplicate a row and a second indexer of the same chain cannot
//! interleave its writes. Rows are sent as arrays (`INSERT … SELECT … FROM UNNEST(…)`), one
//! statement per table, pipelined on the connection.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, U64, U256};
use tokio_postgres::{Client, NoTls, Statement, types::ToSql};

use opdev_opstack::deposit;

use crate::{rpc::FullBlock, schema};

/// The type of OP deposit transactions.
pub const DEPOSIT_TX_TYPE: u64 = 0x7e;

/// A block the database holds: its number and hash.
pub type BlockRef = (u64, B256);

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Connecting, migrating or querying failed (server down, restarted, bad URL…).
    #[error("{what}: {}", describe(source))]
    Db {
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The checkpoint is not where this indexer left it: another writer moved it.
    #[error(
        "the checkpoint of chain {chain_id} moved (expected {expected:?}, found {found:?}); is another indexer writing this chain?"
    )]
    CheckpointMoved {
        /// The chain.
        chain_id: u64,
        /// Where this indexer believed it was.
        expected: Option<u64>,
        /// Where it is.
        found: Option<u64>,
    },
    /// A value does not fit its column (a block number above 2^63…).
    #[error("value out of range for the database: {0}")]
    OutOfRange(String),
}

/// The driver's error with the server's message, which its `Display` leaves out.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl StoreError {
    fn db(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Self {
        move |source| Self::Db { what, source }
    }
}

/// Rows written by one commit, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rows {
    /// Blocks.
    pub blocks: u64,
    /// Transactions (each with its receipt).
    pub transactions: u64,
    /// Logs.
    pub logs: u64,
}

struct Statements {
    lock_checkpoint: Statement,
    insert_blocks: Statement,
    insert_transactions: Statement,
    insert_logs: Statement,
    upsert_checkpoint: Statement,
    delete_blocks: Statement,
    delete_transactions: Statement,
    delete_logs: Statement,
    delete_checkpoint: Statement,
}

/// A connection to the indexer's database, schema migrated.
pub struct Store {
    client: Client,
    stmts: Statements,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

const INSERT_BLOCKS: &str = "INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp, \
     miner, gas_used, gas_limit, base_fee, tx_count, extra_data)
     SELECT $1::bigint, * FROM UNNEST($2::bigint[], $3::bytea[], $4::bytea[], $5::bigint[], \
     $6::bytea[], $7::text[]::numeric[], $8::text[]::numeric[], $9::text[]::numeric[], \
     $10::int[], $11::bytea[])";

const INSERT_TRANSACTIONS: &str = "INSERT INTO transactions (chain_id, block_number, tx_index, \
     hash, block_hash, type, from_address, to_address, contract_address, value, nonce, gas, \
     gas_price, max_fee_per_gas, max_priority_fee_per_gas, effective_gas_price, gas_used, \
     cumulative_gas_used, status, input, log_count, source_hash, mint, is_system_tx, \
     deposit_nonce, l1_fee, l1_gas_used, l1_gas_price)
     SELECT $1::bigint, * FROM UNNEST($2::bigint[], $3::int[], $4::bytea[], $5::bytea[], \
     $6::smallint[], $7::bytea[], $8::bytea[], $9::bytea[], $10::text[]::numeric[], \
     $11::bigint[], $12::text[]::numeric[], $13::text[]::numeric[], $14::text[]::numeric[], \
     $15::text[]::numeric[], $16::text[]::numeric[], $17::text[]::numeric[], \
     $18::text[]::numeric[], $19::smallint[], $20::bytea[], $21::int[], $22::bytea[], \
     $23::text[]::numeric[], $24::bool[], $25::bigint[], $26::text[]::numeric[], \
     $27::text[]::numeric[], $28::text[]::numeric[])";

const INSERT_LOGS: &str = "INSERT INTO logs (chain_id, block_number, log_index, block_hash, \
     tx_hash, tx_index, address, topic0, topic1, topic2, topic3, data, deposit_source)
     SELECT $1::bigint, * FROM UNNEST($2::bigint[], $3::int[], $4::bytea[], $5::bytea[], \
     $6::int[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[], $11::bytea[], $12::bytea[], \
     $13::bytea[])";

/// The source hash of the L2 deposit a log makes, when it is an OptimismPortal
/// `TransactionDeposited` (three indexed topics after the signature); `None` for every other log.
fn deposit_source(topics: &[B256], block_hash: B256, log_index: u64) -> Option<Vec<u8>> {
    (topics.len() == 4 && topics[0] == deposit::deposit_topic())
        .then(|| deposit::user_source_hash(block_hash, log_index).to_vec())
}

/// Fills `logs.deposit_source` of the deposit logs written before schema version 2, in batches.
async fn backfill_deposit_sources(client: &Client) -> Result<u64, StoreError> {
    let topic = deposit::deposit_topic();
    let mut filled = 0;
    loop {
        let rows = client
            .query(
                "SELECT chain_id, block_number, log_index, block_hash FROM logs \
                 WHERE topic0 = $1 AND topic3 IS NOT NULL AND deposit_source IS NULL LIMIT 1000",
                &[&topic.as_slice()],
            )
            .await
            .map_err(StoreError::db("read deposit logs"))?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let (mut chains, mut blocks, mut indexes, mut sources) = (vec![], vec![], vec![], vec![]);
        for r in &rows {
            let log_index: i32 = r.get(2);
            let hash = B256::from_slice(r.get::<_, &[u8]>(3));
            chains.push(r.get::<_, i64>(0));
            blocks.push(r.get::<_, i64>(1));
            indexes.push(log_index);
            sources.push(deposit::user_source_hash(hash, log_index as u64).to_vec());
        }
        client
            .execute(
                "UPDATE logs SET deposit_source = u.source FROM UNNEST($1::bigint[], \
                 $2::bigint[], $3::int[], $4::bytea[]) AS u(chain_id, block_number, log_index, \
                 source) WHERE logs.chain_id = u.chain_id AND logs.block_number = u.block_number \
                 AND logs.log_index = u.log_index",
                &[&chains, &blocks, &indexes, &sources],
            )
            .await
            .map_err(StoreError::db("fill deposit sources"))?;
        filled += rows.len() as u64;
    }
}

fn int<T: TryFrom<u64>>(v: u64, what: &str) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::OutOfRange(format!("{what} {v}")))
}

fn q(v: U64) -> u64 {
    v.to::<u64>()
}

fn dec(v: &U256) -> String {
    v.to_string()
}

/// Opens a connection to `url` (the connection's driver runs as a task of its own) and brings
/// the schema up to date.
pub async fn connect(url: &str) -> Result<Store, StoreError> {
    let (mut client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(StoreError::db("connect to PostgreSQL"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    let applied = schema::migrate(&mut client)
        .await
        .map_err(StoreError::db("migrate the schema"))?;
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "applied schema migrations");
    }
    if applied.contains(&2) {
        let filled = backfill_deposit_sources(&client).await?;
        tracing::info!(
            filled,
            "linked the deposit logs indexed before schema version 2"
        );
    }
    let p = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .prepare(sql)
                .await
                .map_err(StoreError::db("prepare statements"))
        }
    };
    let stmts = Statements {
        lock_checkpoint: p("SELECT number, hash FROM checkpoints WHERE chain_id = $1 FOR UPDATE")
            .await?,
        insert_blocks: p(INSERT_BLOCKS).await?,
        insert_transactions: p(INSERT_TRANSACTIONS).await?,
        insert_logs: p(INSERT_LOGS).await?,
        upsert_checkpoint: p(
            "INSERT INTO checkpoints (chain_id, number, hash) VALUES ($1, $2, $3) \
             ON CONFLICT (chain_id) DO UPDATE SET number = EXCLUDED.number, hash = EXCLUDED.hash, \
             updated_at = now()",
        )
        .await?,
        delete_blocks: p("DELETE FROM blocks WHERE chain_id = $1 AND number > $2").await?,
        delete_transactions: p(
            "DELETE FROM transactions WHERE chain_id = $1 AND block_number > $2",
        )
        .await?,
        delete_logs: p("DELETE FROM logs WHERE chain_id = $1 AND block_number > $2").await?,
        delete_checkpoint: p("DELETE FROM checkpoints WHERE chain_id = $1").await?,
    };
    Ok(Store { client, stmts })
}

fn to_ref(number: i64, hash: &[u8]) -> BlockRef {
    (number as u64, B256::from_slice(hash))
}

impl Store {
    /// Records the chain's name (for readers of the database).
    pub async fn register_chain(&self, chain_id: u64, name: &str) -> Result<(), StoreError> {
        self.client
            .execute(
                "INSERT INTO chains (chain_id, name) VALUES ($1, $2) \
                 ON CONFLICT (chain_id) DO UPDATE SET name = EXCLUDED.name",
                &[&int::<i64>(chain_id, "chain id")?, &name],
            )
            .await
            .map_err(StoreError::db("register the chain"))?;
        Ok(())
    }

    /// The last block indexed on `chain_id`, if any.
    pub async fn checkpoint(&self, chain_id: u64) -> Result<Option<BlockRef>, StoreError> {
        let row = self
            .client
            .query_opt(
                "SELECT number, hash FROM checkpoints WHERE chain_id = $1",
                &[&int::<i64>(chain_id, "chain id")?],
            )
            .await
            .map_err(StoreError::db("read the checkpoint"))?;
        Ok(row.map(|r| to_ref(r.get(0), r.get(1))))
    }

    /// The stored hashes of blocks `from..=to` of `chain_id`, ascending.
    pub async fn hashes(
        &self,
        chain_id: u64,
        from: u64,
        to: u64,
    ) -> Result<Vec<BlockRef>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT number, hash FROM blocks WHERE chain_id = $1 AND number BETWEEN $2 AND $3 \
                 ORDER BY number",
                &[
                    &int::<i64>(chain_id, "chain id")?,
                    &int::<i64>(from, "block number")?,
                    &int::<i64>(to, "block number")?,
                ],
            )
            .await
            .map_err(StoreError::db("read block hashes"))?;
        Ok(rows.iter().map(|r| to_ref(r.get(0), r.get(1))).collect())
    }

    /// Writes `blocks` (consecutive, the first a child of `parent`) and moves the checkpoint to
    /// the last of them, in one transaction. Fails with [`StoreError::CheckpointMoved`] unless
    /// the checkpoint is at `parent`.
    pub async fn commit(
        &mut self,
        chain_id: u64,
        parent: Option<BlockRef>,
        blocks: &[FullBlock],
    ) -> Result<(Rows, Duration), StoreError> {
        let Some(last) = blocks.last() else {
            return Ok((Rows::default(), Duration::ZERO));
        };
        let rows = Columns::new(blocks)?;
        let cid = int::<i64>(chain_id, "chain id")?;
        let above = parent.map_or(Ok(-1), |(n, _)| int::<i64>(n, "block number"))?;
        let last_number = int::<i64>(last.number(), "block number")?;
        let last_hash = last.block.hash.as_slice();
        let started = Instant::now();
        let s = &self.stmts;
        let tx = self
            .client
            .transaction()
            .await
            .map_err(StoreError::db("begin a transaction"))?;
        let p_cid: [&(dyn ToSql + Sync); 1] = [&cid];
        let p_above: [&(dyn ToSql + Sync); 2] = [&cid, &above];
        let p_blocks = rows.blocks_params(&cid);
        let p_txs = rows.tx_params(&cid);
        let p_logs = rows.log_params(&cid);
        let p_cp: [&(dyn ToSql + Sync); 3] = [&cid, &last_number, &last_hash];
        // Pipelined: all statements go out before the first answer comes back.
        let (found, _, _, _, _, _, _, _) = tokio::try_join!(
            tx.query_opt(&s.lock_checkpoint, &p_cid),
            tx.execute(&s.delete_logs, &p_above),
            tx.execute(&s.delete_transactions, &p_above),
            tx.execute(&s.delete_blocks, &p_above),
            tx.execute(&s.insert_blocks, &p_blocks),
            tx.execute(&s.insert_transactions, &p_txs),
            tx.execute(&s.insert_logs, &p_logs),
            tx.execute(&s.upsert_checkpoint, &p_cp),
        )
        .map_err(StoreError::db("write blocks"))?;
        let found = found.map(|r| to_ref(r.get(0), r.get(1)));
        if found != parent {
            // Dropping the transaction rolls it back.
            return Err(StoreError::CheckpointMoved {
                chain_id,
                expected: parent.map(|p| p.0),
                found: found.map(|f| f.0),
            });
        }
        tx.commit().await.map_err(StoreError::db("commit blocks"))?;
        Ok((rows.counts(), started.elapsed()))
    }

    /// Deletes every row of `chain_id` above `to` (everything when `None`) and moves the
    /// checkpoint to `to`, in one transaction, provided the checkpoint is at `from`.
    pub async fn rewind(
        &mut self,
        chain_id: u64,
        from: Option<BlockRef>,
        to: Option<BlockRef>,
    ) -> Result<Duration, StoreError> {
        let cid = int::<i64>(chain_id, "chain id")?;
        let above = to.map_or(Ok(-1), |(n, _)| int::<i64>(n, "block number"))?;
        let started = Instant::now();
        let s = &self.stmts;
        let tx = self
            .client
            .transaction()
            .await
            .map_err(StoreError::db("begin a transaction"))?;
        let found = tx
            .query_opt(&s.lock_checkpoint, &[&cid])
            .await
            .map_err(StoreError::db("lock the checkpoint"))?
            .map(|r| to_ref(r.get(0), r.get(1)));
        if found != from {
            return Err(StoreError::CheckpointMoved {
                chain_id,
                expected: from.map(|p| p.0),
                found: found.map(|f| f.0),
            });
        }
        tx.execute(&s.delete_logs, &[&cid, &above])
            .await
            .map_err(StoreError::db("rewind"))?;
        tx.execute(&s.delete_transactions, &[&cid, &above])
            .await
            .map_err(StoreError::db("rewind"))?;
        tx.execute(&s.delete_blocks, &[&cid, &above])
            .await
            .map_err(StoreError::db("rewind"))?;
        match to {
            Some((n, h)) => {
                let n = int::<i64>(n, "block number")?;
                tx.execute(&s.upsert_checkpoint, &[&cid, &n, &h.as_slice()])
                    .await
            }
            None => tx.execute(&s.delete_checkpoint, &[&cid]).await,
        }
        .map_err(StoreError::db("rewind"))?;
        tx.commit()
            .await
            .map_err(StoreError::db("commit the rewind"))?;
        Ok(started.elapsed())
    }

    /// The underlying client (for readers such as [`crate::verify`]).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

type Hash<'a> = &'a [u8];
type Addr<'a> = &'a [u8];

/// Column arrays of a run of blocks.
#[derive(Default)]
struct Columns<'a> {
    b_number: Vec<i64>,
    b_hash: Vec<Hash<'a>>,
    b_parent: Vec<Hash<'a>>,
    b_timestamp: Vec<i64>,
    b_miner: Vec<Addr<'a>>,
    b_gas_used: Vec<String>,
    b_gas_limit: Vec<String>,
    b_base_fee: Vec<Option<String>>,
    b_tx_count: Vec<i32>,
    b_extra: Vec<&'a [u8]>,

    t_block: Vec<i64>,
    t_index: Vec<i32>,
    t_hash: Vec<Hash<'a>>,
    t_block_hash: Vec<Hash<'a>>,
    t_type: Vec<i16>,
    t_from: Vec<Addr<'a>>,
    t_to: Vec<Option<Addr<'a>>>,
    t_contract: Vec<Option<Addr<'a>>>,
    t_value: Vec<String>,
    t_nonce: Vec<Option<i64>>,
    t_gas: Vec<String>,
    t_gas_price: Vec<Option<String>>,
    t_max_fee: Vec<Option<String>>,
    t_max_prio: Vec<Option<String>>,
    t_effective: Vec<Option<String>>,
    t_gas_used: Vec<String>,
    t_cumulative: Vec<String>,
    t_status: Vec<Option<i16>>,
    t_input: Vec<&'a [u8]>,
    t_log_count: Vec<i32>,
    t_source_hash: Vec<Option<Hash<'a>>>,
    t_mint: Vec<Option<String>>,
    t_system: Vec<Option<bool>>,
    t_deposit_nonce: Vec<Option<i64>>,
    t_l1_fee: Vec<Option<String>>,
    t_l1_gas_used: Vec<Option<String>>,
    t_l1_gas_price: Vec<Option<String>>,

    l_block: Vec<i64>,
    l_index: Vec<i32>,
    l_block_hash: Vec<Hash<'a>>,
    l_tx_hash: Vec<Hash<'a>>,
    l_tx_index: Vec<i32>,
    l_address: Vec<Addr<'a>>,
    l_topics: [Vec<Option<Hash<'a>>>; 4],
    l_data: Vec<&'a [u8]>,
    l_deposit_source: Vec<Option<Vec<u8>>>,
}

impl<'a> Columns<'a> {
    fn new(blocks: &'a [FullBlock]) -> Result<Self, StoreError> {
        let mut c = Self::default();
        for fb in blocks {
            let b = &fb.block;
            let number = int::<i64>(q(b.number), "block number")?;
            c.b_number.push(number);
            c.b_hash.push(b.hash.as_slice());
            c.b_parent.push(b.parent_hash.as_slice());
            c.b_timestamp
                .push(int::<i64>(q(b.timestamp), "block timestamp")?);
            c.b_miner.push(b.miner.as_slice());
            c.b_gas_used.push(dec(&b.gas_used));
            c.b_gas_limit.push(dec(&b.gas_limit));
            c.b_base_fee.push(b.base_fee_per_gas.as_ref().map(dec));
            c.b_tx_count.push(int::<i32>(
                b.transactions.len() as u64,
                "transaction count",
            )?);
            c.b_extra.push(b.extra_data.as_ref());
            // Positions come from the order in the block, which is what the block commits
            // to; a node's `transactionIndex`/`logIndex` fields are not trusted (anvil has
            // been seen to repeat a `transactionIndex` within a block).
            let mut log_index: u64 = 0;
            for (position, (tx, r)) in b.transactions.iter().zip(&fb.receipts).enumerate() {
                let tx_index = int::<i32>(position as u64, "transaction index")?;
                c.t_block.push(number);
                c.t_index.push(tx_index);
                c.t_hash.push(tx.hash.as_slice());
                c.t_block_hash.push(b.hash.as_slice());
                c.t_type
                    .push(int::<i16>(tx.tx_type.map_or(0, q), "transaction type")?);
                c.t_from.push(tx.from.as_slice());
                c.t_to.push(tx.to.as_ref().map(|a| a.as_slice()));
                c.t_contract
                    .push(r.contract_address.as_ref().map(|a| a.as_slice()));
                c.t_value.push(dec(&tx.value));
                c.t_nonce
                    .push(tx.nonce.map(|n| int::<i64>(q(n), "nonce")).transpose()?);
                c.t_gas.push(dec(&tx.gas));
                c.t_gas_price.push(tx.gas_price.as_ref().map(dec));
                c.t_max_fee.push(tx.max_fee_per_gas.as_ref().map(dec));
                c.t_max_prio
                    .push(tx.max_priority_fee_per_gas.as_ref().map(dec));
                c.t_effective.push(r.effective_gas_price.as_ref().map(dec));
                c.t_gas_used.push(dec(&r.gas_used));
                c.t_cumulative.push(dec(&r.cumulative_gas_used));
                c.t_status.push(
                    r.status
                        .map(|s| int::<i16>(q(s), "receipt status"))
                        .transpose()?,
                );
                c.t_input.push(tx.input.as_ref());
                c.t_log_count
                    .push(int::<i32>(r.logs.len() as u64, "log count")?);
                c.t_source_hash
                    .push(tx.source_hash.as_ref().map(|h| h.as_slice()));
                // A deposit always has a mint and a system flag; nodes leave out zero/false.
                let deposit = tx.tx_type.map(q) == Some(DEPOSIT_TX_TYPE);
                c.t_mint.push(match &tx.mint {
                    Some(m) => Some(dec(m)),
                    None if deposit => Some("0".into()),
                    None => None,
                });
                c.t_system
                    .push(tx.is_system_tx.or(deposit.then_some(false)));
                c.t_deposit_nonce.push(
                    r.deposit_nonce
                        .map(|n| int::<i64>(q(n), "deposit nonce"))
                        .transpose()?,
                );
                c.t_l1_fee.push(r.l1_fee.as_ref().map(dec));
                c.t_l1_gas_used.push(r.l1_gas_used.as_ref().map(dec));
                c.t_l1_gas_price.push(r.l1_gas_price.as_ref().map(dec));
                for log in &r.logs {
                    c.l_block.push(number);
                    c.l_index.push(int::<i32>(log_index, "log index")?);
                    log_index += 1;
                    c.l_block_hash.push(b.hash.as_slice());
                    c.l_tx_hash.push(tx.hash.as_slice());
                    c.l_tx_index.push(tx_index);
                    c.l_address.push(log.address.as_slice());
                    for (i, col) in c.l_topics.iter_mut().enumerate() {
                        col.push(log.topics.get(i).map(|t| t.as_slice()));
                    }
                    c.l_data.push(log.data.as_ref());
                    c.l_deposit_source
                        .push(deposit_source(&log.topics, b.hash, log_index - 1));
                }
            }
        }
        Ok(c)
    }

    fn counts(&self) -> Rows {
        Rows {
            blocks: self.b_number.len() as u64,
            transactions: self.t_hash.len() as u64,
            logs: self.l_index.len() as u64,
        }
    }

    fn blocks_params<'s>(&'s self, cid: &'s i64) -> [&'s (dyn ToSql + Sync); 11] {
        [
            cid,
            &self.b_number,
            &self.b_hash,
            &self.b_parent,
            &self.b_timestamp,
            &self.b_miner,
            &self.b_gas_used,
            &self.b_gas_limit,
            &self.b_base_fee,
            &self.b_tx_count,
            &self.b_extra,
        ]
    }

    fn tx_params<'s>(&'s self, cid: &'s i64) -> [&'s (dyn ToSql + Sync); 28] {
        [
            cid,
            &self.t_block,
            &self.t_index,
            &self.t_hash,
            &self.t_block_hash,
            &self.t_type,
            &self.t_from,
            &self.t_to,
            &self.t_contract,
            &self.t_value,
            &self.t_nonce,
            &self.t_gas,
            &self.t_gas_price,
            &self.t_max_fee,
            &self.t_max_prio,
            &self.t_effective,
            &self.t_gas_used,
            &self.t_cumulative,
            &self.t_status,
            &self.t_input,
            &self.t_log_count,
            &self.t_source_hash,
            &self.t_mint,
            &self.t_system,
            &self.t_deposit_nonce,
            &self.t_l1_fee,
            &self.t_l1_gas_used,
            &self.t_l1_gas_price,
        ]
    }

    fn log_params<'s>(&'s self, cid: &'s i64) -> [&'s (dyn ToSql + Sync); 13] {
        [
            cid,
            &self.l_block,
            &self.l_index,
            &self.l_block_hash,
            &self.l_tx_hash,
            &self.l_tx_index,
            &self.l_address,
            &self.l_topics[0],
            &self.l_topics[1],
            &self.l_topics[2],
            &self.l_topics[3],
            &self.l_data,
            &self.l_deposit_source,
        ]
    }
}
