/** One dispatched Server-Sent Event (HTML Living Standard §9.2.6). */
export interface SseEvent {
  type: string;
  data: string;
  /** The last event ID seen on the stream so far (the `id:` field). */
  id: string | undefined;
}

/**
 * Incremental `text/event-stream` parser (HTML §9.2.6): lines end in CRLF, LF or CR; `:` lines are
 * comments (heartbeats); a blank line dispatches. Chunks may split anywhere.
 */
export class SseParser {
  private buf = '';
  private data = '';
  private type = '';
  private lastId: string | undefined;

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const i = this.buf.search(/[\r\n]/);
      if (i < 0 || (this.buf[i] === '\r' && i === this.buf.length - 1)) break;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + (this.buf[i] === '\r' && this.buf[i + 1] === '\n' ? 2 : 1));
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const ev = this.data === '' ? undefined : { type: this.type || 'message', data: this.data.slice(0, -1), id: this.lastId };
      this.data = this.type = '';
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (field === 'data') this.data += `${value}\n`;
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }
}
