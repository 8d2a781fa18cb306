/**
 * {@linkcode Metrics}: the service's counters and request-latency histogram, rendered in the
 * Prometheus text exposition format. Labels hold route patterns and outcomes only: never job
 * IDs, paths or credentials.
 *
 * @module
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Input outcomes counted by {@linkcode Metrics}. */
export type InputOutcome = "uploaded" | "already_uploaded" | "failed" | "rejected" | "skipped";

interface Histogram {
  buckets: number[];
  count: number;
  sum: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  const inner = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
  return inner === "" ? "" : `{${inner}}`;
}

/**
 * The service's metrics. Counters only grow; job gauges are passed in when rendering.
 *
 * @example Count and render
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const metrics = new Metrics();
 * metrics.addInputs("uploaded", 3);
 * metrics.observeRequest("POST", "/v1/uploads", 200, 0.02);
 * const text = metrics.render({ running: 1 });
 * assertStringIncludes(text, 'upflow_inputs_total{outcome="uploaded"} 3');
 * assertStringIncludes(text, 'upflow_jobs{state="running"} 1');
 * assertStringIncludes(text, 'upflow_http_request_duration_seconds_bucket{method="POST",route="/v1/uploads",le="0.025"} 1');
 * ```
 */
export class Metrics {
  #inputs = new Map<InputOutcome, number>();
  #jobsStarted = new Map<string, number>();
  #requests = new Map<string, number>();
  #latency = new Map<string, Histogram>();
  #uploadBytes = 0;
  #bodyBytes = 0;
  #retries = 0;
  #disconnects = 0;

  /**
   * Counts inputs by outcome.
   *
   * @param outcome The outcome.
   * @param n How many.
   */
  addInputs(outcome: InputOutcome, n: number): void {
    if (n > 0) this.#inputs.set(outcome, (this.#inputs.get(outcome) ?? 0) + n);
  }

  /**
   * Counts content bytes sent to the target.
   *
   * @param n Bytes.
   */
  addUploadBytes(n: number): void {
    if (n > 0) this.#uploadBytes += n;
  }

  /**
   * Counts request-body bytes received (CSV bodies and multipart uploads).
   *
   * @param n Bytes.
   */
  addBodyBytes(n: number): void {
    if (n > 0) this.#bodyBytes += n;
  }

  /**
   * Counts retried requests to the target.
   *
   * @param n Retries.
   */
  addRetries(n: number): void {
    if (n > 0) this.#retries += n;
  }

  /** Counts an event stream whose client went away before its end. */
  streamDisconnected(): void {
    this.#disconnects++;
  }

  /**
   * Counts a job started.
   *
   * @param kind The job's kind (`csv`, `multipart`, `folder`, `retry`).
   */
  jobStarted(kind: string): void {
    this.#jobsStarted.set(kind, (this.#jobsStarted.get(kind) ?? 0) + 1);
  }

  /**
   * Records a request: its count by status and its latency (to the response's headers; a
   * streamed body goes on after).
   *
   * @param method The HTTP method.
   * @param route The route pattern (`/v1/uploads/:id`), never the raw path.
   * @param status The response status.
   * @param seconds The latency in seconds.
   */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = JSON.stringify([method, route, String(status)]);
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const hkey = JSON.stringify([method, route]);
    let h = this.#latency.get(hkey);
    if (!h) {
      h = { buckets: LATENCY_BUCKETS.map(() => 0), count: 0, sum: 0 };
      this.#latency.set(hkey, h);
    }
    h.count++;
    h.sum += seconds;
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]++;
    });
  }

  /**
   * Renders every metric in the Prometheus text format.
   *
   * @param jobsByState Jobs by state right now (`running`, `completed`, …).
   * @returns The exposition text.
   */
  render(jobsByState: Record<string, number>): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family("upflow_jobs", "gauge", "Upload jobs known to the service, by state.");
    for (
      const state of [
        "running",
        "completed",
        "completed_with_failures",
        "failed",
        "cancelled",
        "interrupted",
      ]
    ) {
      out.push(`upflow_jobs${labels({ state })} ${jobsByState[state] ?? 0}`);
    }
    family("upflow_jobs_started_total", "counter", "Upload jobs started, by kind.");
    for (const [kind, n] of this.#jobsStarted) {
      out.push(`upflow_jobs_started_total${labels({ kind })} ${n}`);
    }
    family("upflow_inputs_total", "counter", "Inputs by outcome, over every job.");
    for (const outcome of ["uploaded", "already_uploaded", "failed", "rejected", "skipped"]) {
      out.push(
        `upflow_inputs_total${labels({ outcome })} ${
          this.#inputs.get(outcome as InputOutcome) ?? 0
        }`,
      );
    }
    family("upflow_upload_bytes_total", "counter", "Content bytes sent to the target.");
    out.push(`upflow_upload_bytes_total ${this.#uploadBytes}`);
    family("upflow_request_body_bytes_total", "counter", "Upload request-body bytes received.");
    out.push(`upflow_request_body_bytes_total ${this.#bodyBytes}`);
    family("upflow_retries_total", "counter", "Requests to the target that were retried.");
    out.push(`upflow_retries_total ${this.#retries}`);
    family(
      "upflow_event_stream_disconnects_total",
      "counter",
      "Event streams whose client left before the end (the job went on).",
    );
    out.push(`upflow_event_stream_disconnects_total ${this.#disconnects}`);
    family("upflow_http_requests_total", "counter", "HTTP requests by method, route and status.");
    for (const [key, n] of this.#requests) {
      const [method, route, status] = JSON.parse(key) as string[];
      out.push(`upflow_http_requests_total${labels({ method, route, status })} ${n}`);
    }
    family(
      "upflow_http_request_duration_seconds",
      "histogram",
      "Time to the response's headers, by method and route.",
    );
    for (const [key, h] of this.#latency) {
      const [method, route] = JSON.parse(key) as string[];
      LATENCY_BUCKETS.forEach((le, i) => {
        out.push(
          `upflow_http_request_duration_seconds_bucket${
            labels({ method, route, le: String(le) })
          } ${h.buckets[i]}`,
        );
      });
      out.push(
        `upflow_http_request_duration_seconds_bucket${
          labels({ method, route, le: "+Inf" })
        } ${h.count}`,
        `upflow_http_request_duration_seconds_sum${labels({ method, route })} ${h.sum}`,
        `upflow_http_request_duration_seconds_count${labels({ method, route })} ${h.count}`,
      );
    }
    return out.join("\n") + "\n";
  }
}
