/** The webview's side of the protocol: typed requests with ids, and the extension's events. */
import type { EventMessage, PanelMethod, PanelRequests, PanelState, ToExtension, ToWebview } from '../protocol';

interface VsCodeApi {
  postMessage(message: ToExtension): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
let nextId = 1;
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
const eventHandlers: ((event: EventMessage) => void)[] = [];

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.kind === 'response') {
    const waiting = pending.get(message.id);
    if (waiting === undefined) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.result);
    else waiting.reject(new Error(message.error));
  } else if (message.kind === 'event') {
    for (const handler of eventHandlers) handler(message);
  }
});

export function request<M extends PanelMethod>(method: M, params: PanelRequests[M]['params']): Promise<PanelRequests[M]['result']> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    api.postMessage({ kind: 'request', id, method, params } as ToExtension);
  });
}

export function onEvent(handler: (event: EventMessage) => void): void {
  eventHandlers.push(handler);
}

export function loadState(): PanelState | undefined {
  return api.getState();
}

export function saveState(state: PanelState): void {
  api.setState(state);
}
