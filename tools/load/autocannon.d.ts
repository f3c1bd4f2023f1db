// The part of autocannon 9's API that tools/load uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  interface RequestStep<C> extends Request {
    /** Returns the request to send; `context` is per connection and lives across its requests. */
    setupRequest?: (request: Request, context: C) => Request;
    onResponse?: (status: number, body: string, context: C, headers: Record<string, string>) => void;
  }
  interface Options<C> {
    url: string;
    connections?: number;
    duration?: number;
    requests?: Array<RequestStep<C>>;
  }
  interface Histogram {
    p50: number;
    p99: number;
    average: number;
  }
  interface Result {
    /** Seconds. */
    duration: number;
    latency: Histogram;
    requests: Histogram & { total: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  function autocannon<C = Record<string, unknown>>(options: Options<C>): Promise<Result>;
  export default autocannon;
}
