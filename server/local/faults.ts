/**
 * Fault injection for the local Clarifai-compatible API: throttling, a token-bucket rate limit,
 * transport unavailability, connections dropped after a commit, added latency and inputs that
 * fail during processing. Every random choice comes from a seeded generator, one stream per
 * knob, so a run with the same seed and the same sequence of requests injects the same faults.
 *
 * @module
 */

/** The fault knobs, as `startLocalApi({ faults })` and `--faults` take them. */
export interface FaultOptions {
  /** Probability (0..1) that a request answers an in-body `CONN_THROTTLED`. */
  throttle?: number;
  /** Probability (0..1) that a request fails at the transport: gRPC UNAVAILABLE / HTTP 503. */
  unavailable?: number;
  /**
   * Probability (0..1) that a PostInputs or PostAnnotations request is committed and then its
   * connection is destroyed without an answer.
   */
  dropAfterCommit?: number;
  /** Milliseconds added before every request is handled. */
  latencyMs?: number;
  /** Probability (0..1) that an accepted input ends `INPUT_FAILED` during processing. */
  failInput?: number;
  /** Requests per second allowed by a token bucket (burst = rps); 0 or absent means no limit. */
  rps?: number;
  /** Seconds sent in `Retry-After` with transport unavailability (default 1). */
  retryAfter?: number;
  /** Seed of the random choices (default 1). */
  seed?: number;
}

/** How many faults of each kind were injected since the API started. */
export interface FaultCounts {
  /** In-body `CONN_THROTTLED` answers from the `throttle` knob. */
  throttled: number;
  /** In-body `CONN_THROTTLED` answers from the `rps` token bucket. */
  rateLimited: number;
  /** Transport UNAVAILABLE / HTTP 503 answers. */
  unavailable: number;
  /** Requests committed and then dropped without an answer. */
  droppedAfterCommit: number;
  /** Requests delayed by `latencyMs`. */
  delayed: number;
  /** Inputs made to fail during processing. */
  failedInputs: number;
}

const KNOBS: Record<string, keyof FaultOptions> = {
  "throttle": "throttle",
  "unavailable": "unavailable",
  "drop-after-commit": "dropAfterCommit",
  "latency-ms": "latencyMs",
  "fail-input": "failInput",
  "rps": "rps",
  "retry-after": "retryAfter",
  "seed": "seed",
};

const PROBABILITIES = ["throttle", "unavailable", "dropAfterCommit", "failInput"] as const;

/**
 * Parses a fault specification such as
 * `throttle=0.1,unavailable=0.05,drop-after-commit=0.05,latency-ms=20,fail-input=0.01,rps=15,seed=7`
 * into {@linkcode FaultOptions}. An empty text is no faults.
 *
 * @param text The comma-separated `knob=value` pairs.
 * @returns The options (validated as {@linkcode FaultInjector} validates them).
 * @throws {SyntaxError} When a pair is not `knob=number` or names an unknown knob.
 * @throws {RangeError} When a value is out of range.
 *
 * @example Parse a specification
 * ```ts
 * import { parseFaults } from "@upflow/upflow/local";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseFaults("throttle=0.1,rps=15,seed=7"), { throttle: 0.1, rps: 15, seed: 7 });
 * assertEquals(parseFaults(""), {});
 * assertThrows(() => parseFaults("slow=1"), SyntaxError);
 * ```
 */
export function parseFaults(text: string): FaultOptions {
  const options: FaultOptions = {};
  for (const raw of text.split(",")) {
    const pair = raw.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) {
      throw new SyntaxError(
        `Cannot parse faults: expected knob=value: got ${JSON.stringify(pair)}`,
      );
    }
    const name = pair.slice(0, eq).trim();
    const knob = KNOBS[name];
    if (knob === undefined) {
      throw new SyntaxError(
        `Cannot parse faults: unknown knob ${JSON.stringify(name)}: use one of ${
          Object.keys(KNOBS).join(", ")
        }`,
      );
    }
    const valueText = pair.slice(eq + 1).trim();
    const value = Number(valueText);
    if (valueText === "" || !Number.isFinite(value)) {
      throw new SyntaxError(
        `Cannot parse faults: ${name} must be a number: got ${JSON.stringify(valueText)}`,
      );
    }
    options[knob] = value;
  }
  validateFaults(options);
  return options;
}

function validateFaults(options: FaultOptions): void {
  for (const knob of PROBABILITIES) {
    const value = options[knob];
    if (value !== undefined && !(value >= 0 && value <= 1)) {
      throw new RangeError(
        `Cannot set faults: ${knob} must be a probability from 0 to 1: current value is ${value}`,
      );
    }
  }
  for (const knob of ["latencyMs", "rps", "retryAfter"] as const) {
    const value = options[knob];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(
        `Cannot set faults: ${knob} must be a number of at least 0: current value is ${value}`,
      );
    }
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new RangeError(
      `Cannot set faults: seed must be an integer: current value is ${options.seed}`,
    );
  }
}

/** mulberry32: a small, fast, seeded 32-bit generator returning numbers in [0, 1). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Decides, request by request, which faults to inject, and counts them. Each probability knob
 * draws from its own seeded stream, so turning one knob on does not change the choices of
 * another.
 *
 * @example Deterministic under a seed
 * ```ts
 * import { FaultInjector } from "./faults.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const draw = () => {
 *   const faults = new FaultInjector({ throttle: 0.5, seed: 7 });
 *   return Array.from({ length: 20 }, () => faults.takeThrottle());
 * };
 * assertEquals(draw(), draw());
 * const faults = new FaultInjector({ throttle: 1 });
 * faults.takeThrottle();
 * assertEquals(faults.counts().throttled, 1);
 * ```
 */
export class FaultInjector {
  #options: FaultOptions = {};
  #streams = new Map<string, () => number>();
  #tokens = 0;
  #refilledAt = 0;
  #counts: FaultCounts = {
    throttled: 0,
    rateLimited: 0,
    unavailable: 0,
    droppedAfterCommit: 0,
    delayed: 0,
    failedInputs: 0,
  };

  /**
   * Creates an injector.
   *
   * @param options The knobs; none means no faults.
   * @throws {RangeError} When a knob is out of range.
   */
  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /**
   * Replaces the knobs at runtime; the random streams restart from the (new) seed and the rate
   * limit's bucket refills. Counters are kept.
   *
   * @param options The new knobs.
   * @throws {RangeError} When a knob is out of range.
   *
   * @example Turn throttling off
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const faults = new FaultInjector({ throttle: 1 });
   * faults.set({});
   * assertEquals(faults.takeThrottle(), false);
   * ```
   */
  set(options: FaultOptions): void {
    validateFaults(options);
    this.#options = { ...options };
    this.#streams.clear();
    this.#tokens = options.rps ?? 0;
    this.#refilledAt = Date.now();
  }

  /** The current knobs. */
  get options(): Readonly<FaultOptions> {
    return this.#options;
  }

  /** The seconds to announce in `Retry-After`. */
  get retryAfterSeconds(): number {
    return this.#options.retryAfter ?? 1;
  }

  /**
   * Returns a copy of the counters of injected faults.
   *
   * @returns The counters.
   *
   * @example Nothing injected yet
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new FaultInjector().counts().unavailable, 0);
   * ```
   */
  counts(): FaultCounts {
    return { ...this.#counts };
  }

  #draw(knob: (typeof PROBABILITIES)[number]): boolean {
    const probability = this.#options[knob] ?? 0;
    if (probability <= 0) return false;
    let stream = this.#streams.get(knob);
    if (stream === undefined) {
      const seed = (this.#options.seed ?? 1) * 1000003 + PROBABILITIES.indexOf(knob) * 7919;
      stream = generator(seed);
      this.#streams.set(knob, stream);
    }
    return stream() < probability;
  }

  /**
   * Returns the latency to add to the next request, in milliseconds, and counts it.
   *
   * @returns Milliseconds (0 when the knob is off).
   *
   * @example Usage
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new FaultInjector({ latencyMs: 20 }).takeLatency(), 20);
   * ```
   */
  takeLatency(): number {
    const ms = this.#options.latencyMs ?? 0;
    if (ms > 0) this.#counts.delayed++;
    return ms;
  }

  /**
   * Decides whether the next request fails at the transport.
   *
   * @returns `true` to answer UNAVAILABLE / 503.
   *
   * @example Usage
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assert } from "@std/assert";
   *
   * assert(new FaultInjector({ unavailable: 1 }).takeUnavailable());
   * ```
   */
  takeUnavailable(): boolean {
    const hit = this.#draw("unavailable");
    if (hit) this.#counts.unavailable++;
    return hit;
  }

  /**
   * Takes a token from the rate limit's bucket.
   *
   * @param now The current time in milliseconds.
   * @returns `true` when the bucket is empty and the request must be throttled.
   *
   * @example Two requests per second
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const faults = new FaultInjector({ rps: 2 });
   * const now = Date.now();
   * assertEquals([1, 2, 3].map(() => faults.takeRateLimited(now)), [false, false, true]);
   * assertEquals(faults.takeRateLimited(now + 500), false);
   * ```
   */
  takeRateLimited(now: number = Date.now()): boolean {
    const rps = this.#options.rps ?? 0;
    if (rps <= 0) return false;
    const elapsed = Math.max(0, now - this.#refilledAt) / 1000;
    this.#tokens = Math.min(rps, this.#tokens + elapsed * rps);
    this.#refilledAt = Math.max(this.#refilledAt, now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return false;
    }
    this.#counts.rateLimited++;
    return true;
  }

  /** The configured requests per second (0 when unlimited). */
  get rps(): number {
    return this.#options.rps ?? 0;
  }

  /**
   * Decides whether the next request answers an in-body `CONN_THROTTLED`.
   *
   * @returns `true` to throttle.
   *
   * @example Usage
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new FaultInjector({}).takeThrottle(), false);
   * ```
   */
  takeThrottle(): boolean {
    const hit = this.#draw("throttle");
    if (hit) this.#counts.throttled++;
    return hit;
  }

  /**
   * Decides whether a committed write is answered by dropping the connection.
   *
   * @returns `true` to drop.
   *
   * @example Usage
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assert } from "@std/assert";
   *
   * assert(new FaultInjector({ dropAfterCommit: 1 }).takeDropAfterCommit());
   * ```
   */
  takeDropAfterCommit(): boolean {
    const hit = this.#draw("dropAfterCommit");
    if (hit) this.#counts.droppedAfterCommit++;
    return hit;
  }

  /**
   * Decides whether an input being processed fails.
   *
   * @returns `true` to fail it.
   *
   * @example Usage
   * ```ts
   * import { FaultInjector } from "./faults.ts";
   * import { assert } from "@std/assert";
   *
   * assert(new FaultInjector({ failInput: 1 }).takeFailInput());
   * ```
   */
  takeFailInput(): boolean {
    const hit = this.#draw("failInput");
    if (hit) this.#counts.failedInputs++;
    return hit;
  }
}
