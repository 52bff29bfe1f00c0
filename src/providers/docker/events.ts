// Reads Docker's `/events` stream, which is newline-delimited JSON, and classifies each container
// event by what it means for routing.

/** The part of a Docker event message that Berth reads. */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  id?: string;
}

/** The change an event requires in the container list. */
export type EventEffect = 'refresh' | 'remove' | 'stopping' | 'ignore';

/** Signals whose delivery means the container is about to stop (SIGINT, SIGKILL, SIGTERM). */
const STOPPING_SIGNALS = new Set(['2', '9', '15', 'SIGINT', 'SIGKILL', 'SIGTERM', 'INT', 'KILL', 'TERM']);

/** Event actions Berth requests from the daemon; `health_status` also matches `health_status: healthy`. */
export const WATCHED_ACTIONS = ['create', 'start', 'restart', 'die', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'rename', 'update', 'health_status'];

export function eventEffect(event: DockerEvent): EventEffect {
  if (event.Type !== undefined && event.Type !== 'container') return 'ignore';
  const action = event.Action ?? '';

  if (action.startsWith('health_status')) return 'refresh';
  switch (action) {
    case 'destroy':
      return 'remove';
    case 'kill': {
      // `docker kill -s HUP` is often a reload request, so only terminating signals drain the server.
      const signal = event.Actor?.Attributes?.signal ?? '';
      return STOPPING_SIGNALS.has(signal.toUpperCase()) ? 'stopping' : 'ignore';
    }
    case 'stop':
      return 'stopping';
    case 'create':
    case 'start':
    case 'restart':
    case 'die':
    case 'pause':
    case 'unpause':
    case 'rename':
    case 'update':
      return 'refresh';
    default:
      return 'ignore';
  }
}

/** Splits a byte stream into JSON events; a partial line waits for the next chunk. */
export class EventLineDecoder {
  #buffer = '';

  push(chunk: Buffer | string): DockerEvent[] {
    this.#buffer += chunk.toString();
    const events: DockerEvent[] = [];
    let newline = this.#buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line !== '') {
        try {
          events.push(JSON.parse(line) as DockerEvent);
        } catch {
          // A line that is not JSON carries nothing Berth can act on; the next resync covers it.
        }
      }
      newline = this.#buffer.indexOf('\n');
    }
    return events;
  }
}
