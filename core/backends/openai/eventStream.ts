/**
 * Server-sent events (the WHATWG `text/event-stream` format) decoded
 * incrementally from a response body's bytes, in time linear in their length.
 *
 * Why not the `openai` SDK's own stream: for every event it copies the bytes
 * not yet decoded into a new array, so a chunk holding a whole streamed answer
 * (a fast local server writes all its events at once) is copied once per event,
 * and every line is decoded separately. That was over a third of each streamed
 * call's cost against a server that answers at once (docs/eval.md, Speed).
 */

export interface ServerSentEvent {
  /** The `event:` field, when the event has one. */
  readonly event?: string;
  /** The `data:` lines joined with line feeds. */
  readonly data: string;
}

export class EventStreamDecoder {
  private readonly text = new TextDecoder();
  /**
   * The text of the line not yet complete, in the pieces it arrived in: joined once, when
   * its line break comes, so a long event arriving in many pieces costs time linear in its
   * length (appending each piece to one string and searching it again was quadratic).
   */
  private pending: string[] = [];
  /** The last piece ended with a CR: an LF starting the next is the second half of that CRLF. */
  private afterCr = false;
  private data = '';
  private hasData = false;
  private event: string | undefined;

  /** The events completed by `bytes` (UTF-8 sequences and line breaks may be split anywhere). */
  push(bytes: Uint8Array): ServerSentEvent[] {
    return this.lines(this.text.decode(bytes, { stream: true }), false);
  }

  /** At the end of the body: the events its last bytes complete. An event without its closing blank line is dropped, as the standard says. */
  end(): ServerSentEvent[] {
    return this.lines(this.text.decode(), true);
  }

  /** Only `text` (the new piece) is searched for line breaks: the pending pieces hold none. */
  private lines(text: string, final: boolean): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let start = 0;
    if (this.afterCr && text !== '') {
      this.afterCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // Line breaks are LF, CRLF or CR: the next of each is looked up again only once passed.
    let cr = text.indexOf('\r', start);
    let lf = text.indexOf('\n', start);
    for (;;) {
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      const end = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
      if (end < 0) break;
      let line = text.slice(start, end);
      if (this.pending.length > 0) {
        this.pending.push(line);
        line = this.pending.join('');
        this.pending = [];
      }
      this.line(line, events);
      start = end + 1;
      if (end === cr) {
        // A CR ending the piece may be the first half of a CRLF split between two pieces.
        if (start === text.length) this.afterCr = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
    }
    if (final) this.pending = [];
    else if (start < text.length) this.pending.push(start === 0 ? text : text.slice(start));
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') return this.dispatch(events);
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment (servers send them to keep the connection alive)
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'data') {
      this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
    } else if (field === 'event') this.event = value;
    else if (field === 'error') {
      // Not a field of the standard: llama.cpp's server reports an error in the middle of a stream
      // as `error: {"code": 500, "message": …}` (no `data:`), which would be dropped unread. It is
      // taken as an event named `error` with that data, as other servers send it.
      this.event = 'error';
      this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
    }
    // `id` and `retry` are for reconnecting, which a completion never does.
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.hasData) events.push(this.event !== undefined ? { event: this.event, data: this.data } : { data: this.data });
    this.data = '';
    this.hasData = false;
    this.event = undefined;
  }
}
