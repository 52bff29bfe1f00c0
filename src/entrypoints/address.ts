// Parses entry point addresses in Traefik's form: `:80`, `127.0.0.1:8080`, `[::1]:443`.

export interface ListenAddress {
  /** Undefined means every interface. */
  host?: string;
  port: number;
}

export function parseListenAddress(address: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`address "${address}" is invalid: write it as :PORT, HOST:PORT or [IPV6]:PORT`);
  const port = Number(match[3]);
  if (port < 0 || port > 65535) throw new Error(`address "${address}" has port ${port}; use 0-65535`);
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}
