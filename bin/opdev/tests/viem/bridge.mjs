// A client nobody at opdev wrote, against a running devnet: viem's OP Stack actions deposit ETH
// through the OptimismPortal and withdraw it again (initiate, wait to prove, prove, wait to
// finalize, finalize). Addresses come from `opdev status --json`, given as OPDEV_STATUS (its JSON
// text). Each step prints one JSON line; any failure throws (exit code 1).
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  getL2TransactionHashes,
  publicActionsL1,
  publicActionsL2,
  walletActionsL1,
  walletActionsL2,
} from 'viem/op-stack';

const status = JSON.parse(process.env.OPDEV_STATUS);
const key = process.env.PRIVATE_KEY;
const l2Index = Number(process.env.L2_INDEX ?? '0');
const l1e = status.endpoints.l1;
const l2e = status.endpoints.l2[l2Index];
const c = l2e.l1_contracts;

const l1 = defineChain({
  id: l1e.chain_id,
  name: 'opdev L1',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [l1e.rpc] } },
  contracts: { multicall3: { address: l1e.contracts.Multicall3 } },
});
const l2 = defineChain({
  id: l2e.chain_id,
  name: `opdev ${l2e.service}`,
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [l2e.rpc] } },
  sourceId: l1e.chain_id,
  contracts: {
    multicall3: { address: '0xcA11bde05977b3631167028862bE2a173976CA11' },
    portal: { [l1e.chain_id]: { address: c.OptimismPortal } },
    disputeGameFactory: { [l1e.chain_id]: { address: c.DisputeGameFactory } },
    l1StandardBridge: { [l1e.chain_id]: { address: c.L1StandardBridge } },
  },
});

const account = privateKeyToAccount(key);
const transport = (chain) => http(chain.rpcUrls.default.http[0]);
const publicL1 = createPublicClient({ chain: l1, transport: transport(l1) }).extend(publicActionsL1());
const publicL2 = createPublicClient({ chain: l2, transport: transport(l2) }).extend(publicActionsL2());
const walletL1 = createWalletClient({ account, chain: l1, transport: transport(l1) }).extend(walletActionsL1());
const walletL2 = createWalletClient({ account, chain: l2, transport: transport(l2) }).extend(walletActionsL2());
const say = (step, fields) =>
  console.log(JSON.stringify({ step, ...fields }, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));

// Proves and finalizes the withdrawal that the L2 transaction `hash` started; returns the
// finalize receipt.
async function proveAndFinalize(initiateReceipt) {
  const { game, withdrawal } = await publicL1.waitToProve({
    receipt: initiateReceipt,
    targetChain: l2,
    pollingInterval: 500,
  });
  say('game', { index: game.index, l2_block: game.l2BlockNumber });
  const proveArgs = await publicL2.buildProveWithdrawal({ game, withdrawal });
  const proveHash = await walletL1.proveWithdrawal(proveArgs);
  const proveReceipt = await publicL1.waitForTransactionReceipt({ hash: proveHash });
  if (proveReceipt.status !== 'success') throw new Error('prove reverted');
  say('prove', {
    l1: proveHash,
    status: await publicL1.getWithdrawalStatus({ receipt: initiateReceipt, targetChain: l2 }),
  });
  await publicL1.waitToFinalize({ targetChain: l2, withdrawalHash: withdrawal.withdrawalHash, pollingInterval: 500 });
  // The portal's checks are strict (`>`): wait until a block past the period is mined.
  for (let i = 0; i < 60; i++) {
    const s = await publicL1.getWithdrawalStatus({ receipt: initiateReceipt, targetChain: l2 });
    if (s === 'ready-to-finalize') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const finalizeHash = await walletL1.finalizeWithdrawal({ targetChain: l2, withdrawal });
  const finalizeReceipt = await publicL1.waitForTransactionReceipt({ hash: finalizeHash });
  if (finalizeReceipt.status !== 'success') throw new Error('finalize reverted');
  const final = await publicL1.getWithdrawalStatus({ receipt: initiateReceipt, targetChain: l2 });
  say('finalize', { l1: finalizeHash, status: final });
  if (final !== 'finalized') throw new Error(`status after finalizing is ${final}`);
  return finalizeReceipt;
}

if (process.env.INITIATE_TX) {
  // Only prove and finalize a withdrawal started elsewhere.
  const receipt = await publicL2.getTransactionReceipt({ hash: process.env.INITIATE_TX });
  await proveAndFinalize(receipt);
  say('done', {});
  process.exit(0);
}

// Deposit: 1 ETH minted to the account on the L2.
const amount = parseEther('1');
const l2Before = await publicL2.getBalance({ address: account.address });
const depositArgs = await publicL2.buildDepositTransaction({
  mint: amount,
  to: account.address,
});
const depositHash = await walletL1.depositTransaction({ ...depositArgs, targetChain: l2 });
const depositReceipt = await publicL1.waitForTransactionReceipt({ hash: depositHash });
const [l2Hash] = getL2TransactionHashes(depositReceipt);
const l2Receipt = await publicL2.waitForTransactionReceipt({ hash: l2Hash, timeout: 30_000 });
const l2After = await publicL2.getBalance({ address: account.address });
say('deposit', { l1: depositHash, l2: l2Hash, l2_status: l2Receipt.status, gained: l2After - l2Before });
if (l2Receipt.status !== 'success' || l2After - l2Before !== amount) throw new Error('deposit did not arrive');

// Withdrawal of 0.5 ETH back to the L1, to a fresh address (its L1 balance shows exactly what
// arrived).
const back = parseEther('0.5');
const recipient = privateKeyToAccount(generatePrivateKey()).address;
const withdrawArgs = await publicL1.buildInitiateWithdrawal({ to: recipient, value: back });
const initiateHash = await walletL2.initiateWithdrawal(withdrawArgs);
const initiateReceipt = await publicL2.waitForTransactionReceipt({ hash: initiateHash });
say('initiate', { l2: initiateHash, block: initiateReceipt.blockNumber });
say('status', {
  status: await publicL1.getWithdrawalStatus({ receipt: initiateReceipt, targetChain: l2 }),
});
await proveAndFinalize(initiateReceipt);
const received = await publicL1.getBalance({ address: recipient });
say('received', { recipient, received });
if (received !== back) throw new Error(`the recipient got ${received} on the L1, expected ${back}`);
say('done', {});
