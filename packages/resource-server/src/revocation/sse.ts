import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One dispatched Server-Sent Event (HTML Living Standard §9.2.6). */
export interface SseEvent {
  type: string;
  data: string;
  /** The last event ID seen on the stream so far (the `id:` field of this or an earlier event). */
  id: string | undefined;
}

/** Bound on an event still being received (Tessera's events are ~100 bytes): a runaway stream is cut off. */
const MAX_BUFFER = 1024 * 1024;

/**
 * Incremental `text/event-stream` parsing, by `eventsource-parser` (line endings CRLF/LF/CR, comments,
 * multi-line data, chunks split anywhere, NUL-bearing ids ignored). This adapter keeps the stream's
 * last event ID across events, as an EventSource does, for the feed's `Last-Event-ID` resume.
 * An event larger than `MAX_BUFFER` throws, so the caller drops the connection and reconnects.
 */
export class SseParser {
  private readonly parser: EventSourceParser;
  private lastId: string | undefined;
  private out: SseEvent[] = [];
  private failure: Error | undefined;

  constructor() {
    this.parser = createParser({
      onEvent: (e) => {
        if (e.id !== undefined) this.lastId = e.id;
        this.out.push({ type: e.event ?? 'message', data: e.data, id: this.lastId });
      },
      onError: (e) => {
        // Unknown fields and bad `retry` values are ignored, as the standard says; only an overflow ends the stream.
        if (e.type === 'max-buffer-size-exceeded') this.failure = e;
      },
      maxBufferSize: MAX_BUFFER,
    });
  }

  push(chunk: string): SseEvent[] {
    if (this.failure) throw this.failure;
    this.parser.feed(chunk);
    if (this.failure) throw this.failure;
    const events = this.out;
    this.out = [];
    return events;
  }
}
