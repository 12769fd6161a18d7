// The daemon's table of upstream endpoints: which association polls which address, by id and by address, and how each is named in the log.

/** Where an association sends: the configured name and the address it resolved to. */
export interface UpstreamEndpointInfo {
  readonly associationId: number;
  /** As configured ("clock.fmt.he.net", "127.0.0.1"). */
  readonly name: string;
  /** The IP literal in use. */
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly pool: boolean;
}

/**
 * The endpoints of the running associations. Ids are never reused: a replaced association's id
 * is retired, so status views see one go and another come.
 *
 * @example
 * ```ts
 * const table = new UpstreamTable([{ associationId: 1, name: "a.example", hostname: "192.0.2.1",
 *   port: 123, family: 4, pool: false }]);
 * table.byAddress("192.0.2.1", 123)?.associationId; // 1
 * table.nameOf(1); // "a.example (192.0.2.1:123)"
 * ```
 */
export class UpstreamTable {
  readonly #byId = new Map<number, UpstreamEndpointInfo>();
  readonly #byAddress = new Map<string, UpstreamEndpointInfo>();
  #nextId: number;

  /** A table holding `endpoints`; new ids continue after the highest. */
  constructor(endpoints: readonly UpstreamEndpointInfo[]) {
    for (const endpoint of endpoints) this.add(endpoint);
    this.#nextId = Math.max(0, ...endpoints.map((e) => e.associationId)) + 1;
  }

  /** An id no association has had. */
  takeId(): number {
    return this.#nextId++;
  }

  /** The next id {@link takeId} will return (for numbering endpoints resolved later). */
  get nextId(): number {
    return this.#nextId;
  }

  /** Adds (or replaces) the endpoint of its association. */
  add(endpoint: UpstreamEndpointInfo): void {
    this.#byId.set(endpoint.associationId, endpoint);
    this.#byAddress.set(`${endpoint.hostname}|${endpoint.port}`, endpoint);
    this.#nextId = Math.max(this.#nextId ?? 1, endpoint.associationId + 1);
  }

  /** Removes association `id`'s endpoint; unknown ids are ignored. */
  remove(id: number): void {
    const endpoint = this.#byId.get(id);
    if (endpoint === undefined) return;
    this.#byId.delete(id);
    const key = `${endpoint.hostname}|${endpoint.port}`;
    if (this.#byAddress.get(key) === endpoint) this.#byAddress.delete(key);
  }

  /** Association `id`'s endpoint. */
  byId(id: number): UpstreamEndpointInfo | undefined {
    return this.#byId.get(id);
  }

  /** The endpoint a datagram from `hostname`:`port` belongs to. */
  byAddress(hostname: string, port: number): UpstreamEndpointInfo | undefined {
    return this.#byAddress.get(`${hostname}|${port}`);
  }

  /** Every endpoint, in id order. */
  all(): UpstreamEndpointInfo[] {
    return [...this.#byId.values()].sort((a, b) => a.associationId - b.associationId);
  }

  /** How association `id` is named in the log: "name (address:port)", or "none". */
  nameOf(id: number | null): string {
    const e = id === null ? undefined : this.#byId.get(id);
    if (!e) return "none";
    const address = e.family === 6 ? `[${e.hostname}]:${e.port}` : `${e.hostname}:${e.port}`;
    return e.name === e.hostname ? address : `${e.name} (${address})`;
  }
}
