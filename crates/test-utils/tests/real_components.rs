//! The test components are real: PostgreSQL answers SQL and survives a restart with its data;
//! anvil answers JSON-RPC.

use opdev_test_utils::{TestAnvil, TestPostgres};

#[tokio::test]
async fn postgres_answers_and_keeps_data_across_restart() {
    let mut pg = TestPostgres::start();
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    client
        .batch_execute("CREATE TABLE t (v NUMERIC(78,0)); INSERT INTO t VALUES (2::numeric ^ 255)")
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
    pg.restart();
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let row = client
        .query_one("SELECT v::text FROM t", &[])
        .await
        .unwrap();
    let v: String = row.get(0);
    assert_eq!(
        v,
        "57896044618658097711785492504343953926634992332820282019728792003956564819968"
    );
}

#[tokio::test]
async fn anvil_answers_with_its_chain_id() {
    let anvil = TestAnvil::start(&["--chain-id", "4242"]);
    let id = opdev_chain::rpc::Probe::new(&anvil.url())
        .unwrap()
        .chain_id()
        .await
        .unwrap();
    assert_eq!(id, 4242);
}
