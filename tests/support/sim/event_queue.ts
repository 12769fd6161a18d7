// The simulation's scheduler: a binary heap of callbacks ordered by virtual (true) time, then insertion order. No real timers.

/** A queue of callbacks to run at virtual times. */
export interface EventQueue {
  /** Runs `run` at virtual time `atSeconds` (not before the current time). */
  schedule(atSeconds: number, run: () => void): void;
  /** Runs events in order until the next one is after `untilSeconds`; returns the events run. */
  runUntil(untilSeconds: number): number;
  /** The virtual time of the event running now (or of the last one run). */
  readonly nowSeconds: number;
  /** Events waiting. */
  readonly size: number;
}

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * An empty queue starting at virtual time `startSeconds`.
 *
 * @example
 * ```ts
 * const queue = createEventQueue(0);
 * queue.schedule(5, () => console.log("five seconds"));
 * queue.runUntil(10);
 * ```
 */
export function createEventQueue(startSeconds = 0): EventQueue {
  const heap: Entry[] = [];
  let seq = 0;
  let now = startSeconds;
  const push = (entry: Entry) => {
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry, heap[parent] as Entry)) break;
      [heap[i], heap[parent]] = [heap[parent] as Entry, heap[i] as Entry];
      i = parent;
    }
  };
  const pop = (): Entry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as Entry, heap[m] as Entry)) m = l;
        if (r < heap.length && before(heap[r] as Entry, heap[m] as Entry)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Entry, heap[i] as Entry];
        i = m;
      }
    }
    return top;
  };
  return {
    schedule(atSeconds, run) {
      push({ at: Math.max(atSeconds, now), seq: seq++, run });
    },
    runUntil(untilSeconds) {
      let count = 0;
      while (heap.length > 0 && (heap[0] as Entry).at <= untilSeconds) {
        const entry = pop() as Entry;
        now = entry.at;
        entry.run();
        count++;
      }
      now = Math.max(now, untilSeconds);
      return count;
    },
    get nowSeconds() {
      return now;
    },
    get size() {
      return heap.length;
    },
  };
}
