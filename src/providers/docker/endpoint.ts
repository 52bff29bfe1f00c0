// Turns a Docker endpoint such as `unix:///var/run/docker.sock` or `tcp://127.0.0.1:2375` into
// dockerode's connection options.
import type { DockerOptions } from 'dockerode';

export function dockerOptions(endpoint: string): DockerOptions {
  if (endpoint.startsWith('unix://')) {
    return { socketPath: endpoint.slice('unix://'.length) };
  }

  const url = new URL(endpoint.replace(/^tcp:\/\//, 'http://'));
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (protocol === 'https' ? 2376 : 2375) : Number(url.port);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol };
}
