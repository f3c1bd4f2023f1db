/**
 * Fiduciary orders in SQL (migration namespace `dta-orders`). One row per accepted order envelope,
 * keyed by its CID, so a replayed order finds its row; every transition is a conditional write
 * (`ON CONFLICT DO NOTHING`, `WHERE … IS NULL`) checked by `changes`, so concurrent replays and
 * replicas agree on one reference, one fulfilment, one redemption and one release.
 */
import type { Migration, SqlDatabase, SqlRow } from '@milagro/storage';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'fiduciary orders: accepted order envelopes, their fulfilment, redemption and release',
    statements: [
      `CREATE TABLE dta_orders (
        order_cid TEXT PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        plugin TEXT NOT NULL,
        principal TEXT NOT NULL,
        beneficiary TEXT,
        created_at BIGINT NOT NULL,
        plugin_state {{blob}},
        fulfilment_cid TEXT,
        fulfilment {{blob}},
        redemption_cid TEXT UNIQUE,
        redeemer TEXT,
        recipient TEXT,
        redeemed_at BIGINT,
        release_cid TEXT,
        release {{blob}}
      )`,
    ],
  },
];

/** One order as stored. */
export interface OrderRecord {
  readonly orderCid: string;
  readonly reference: string;
  readonly plugin: string;
  readonly principal: string;
  readonly beneficiary?: string;
  readonly createdAt: number;
  readonly pluginState?: Uint8Array;
  readonly fulfilment?: { readonly cid: string; readonly bytes: Uint8Array };
  readonly redemption?: { readonly cid: string; readonly redeemer: string; readonly recipient: string; readonly redeemedAt: number };
  readonly release?: { readonly cid: string; readonly bytes: Uint8Array };
}

interface OrderRow extends SqlRow {
  order_cid: string;
  reference: string;
  plugin: string;
  principal: string;
  beneficiary: string | null;
  created_at: number | bigint;
  plugin_state: Uint8Array | null;
  fulfilment_cid: string | null;
  fulfilment: Uint8Array | null;
  redemption_cid: string | null;
  redeemer: string | null;
  recipient: string | null;
  redeemed_at: number | bigint | null;
  release_cid: string | null;
  release: Uint8Array | null;
}

function toRecord(row: OrderRow): OrderRecord {
  return {
    orderCid: row.order_cid,
    reference: row.reference,
    plugin: row.plugin,
    principal: row.principal,
    ...(row.beneficiary === null ? {} : { beneficiary: row.beneficiary }),
    createdAt: Number(row.created_at),
    ...(row.plugin_state === null ? {} : { pluginState: new Uint8Array(row.plugin_state) }),
    ...(row.fulfilment_cid === null || row.fulfilment === null ? {} : { fulfilment: { cid: row.fulfilment_cid, bytes: new Uint8Array(row.fulfilment) } }),
    ...(row.redemption_cid === null
      ? {}
      : { redemption: { cid: row.redemption_cid, redeemer: row.redeemer ?? '', recipient: row.recipient ?? '', redeemedAt: Number(row.redeemed_at ?? 0) } }),
    ...(row.release_cid === null || row.release === null ? {} : { release: { cid: row.release_cid, bytes: new Uint8Array(row.release) } }),
  };
}

export class OrderRepository {
  readonly #db: SqlDatabase;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  static async open(db: SqlDatabase): Promise<OrderRepository> {
    await db.migrate('dta-orders', MIGRATIONS);
    return new OrderRepository(db);
  }

  async byOrder(orderCid: string): Promise<OrderRecord | undefined> {
    const row = await this.#db.get<OrderRow>('SELECT * FROM dta_orders WHERE order_cid = ?', [orderCid]);
    return row === undefined ? undefined : toRecord(row);
  }

  async byReference(reference: string): Promise<OrderRecord | undefined> {
    const row = await this.#db.get<OrderRow>('SELECT * FROM dta_orders WHERE reference = ?', [reference]);
    return row === undefined ? undefined : toRecord(row);
  }

  async byRedemption(redemptionCid: string): Promise<OrderRecord | undefined> {
    const row = await this.#db.get<OrderRow>('SELECT * FROM dta_orders WHERE redemption_cid = ?', [redemptionCid]);
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * Accepts an order envelope once: inserts it under `reference` unless its CID is already there.
   * Returns the stored row, whichever insert won.
   */
  async accept(order: { orderCid: string; reference: string; plugin: string; principal: string; beneficiary?: string; createdAt: number }): Promise<OrderRecord> {
    await this.#db.run(
      'INSERT INTO dta_orders (order_cid, reference, plugin, principal, beneficiary, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [order.orderCid, order.reference, order.plugin, order.principal, order.beneficiary ?? null, order.createdAt],
    );
    const stored = await this.byOrder(order.orderCid);
    if (stored === undefined) throw new Error('an accepted order vanished'); // a reference collision (2^-256) would land here
    return stored;
  }

  /** Records the fulfilment unless one is already recorded; returns the stored row. */
  async fulfil(orderCid: string, fulfilment: { cid: string; bytes: Uint8Array; pluginState?: Uint8Array }): Promise<OrderRecord> {
    await this.#db.run('UPDATE dta_orders SET fulfilment_cid = ?, fulfilment = ?, plugin_state = ? WHERE order_cid = ? AND fulfilment_cid IS NULL', [
      fulfilment.cid,
      fulfilment.bytes,
      fulfilment.pluginState ?? null,
      orderCid,
    ]);
    return (await this.byOrder(orderCid))!;
  }

  /** Marks a fulfilled order redeemed by `redemptionCid` unless it was redeemed already; true when this call did. */
  async redeem(reference: string, redemption: { cid: string; redeemer: string; recipient: string; redeemedAt: number }): Promise<boolean> {
    const { changes } = await this.#db.run(
      'UPDATE dta_orders SET redemption_cid = ?, redeemer = ?, recipient = ?, redeemed_at = ? WHERE reference = ? AND fulfilment_cid IS NOT NULL AND redemption_cid IS NULL',
      [redemption.cid, redemption.redeemer, redemption.recipient, redemption.redeemedAt, reference],
    );
    return changes === 1;
  }

  /** Records the release unless one is already recorded; drops the plugin state it no longer needs. Returns the stored row. */
  async release(reference: string, release: { cid: string; bytes: Uint8Array }): Promise<OrderRecord> {
    await this.#db.run('UPDATE dta_orders SET release_cid = ?, release = ?, plugin_state = NULL WHERE reference = ? AND release_cid IS NULL', [
      release.cid,
      release.bytes,
      reference,
    ]);
    return (await this.byReference(reference))!;
  }
}
