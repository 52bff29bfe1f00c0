// Builders for the Traefik labels that most tests need.

/**
 * Labels for one router named `router` matching `Host(host)`. With `port`, they also define the
 * service of the same name with that server port, as most compose files do.
 */
export function hostRouterLabels(router: string, host: string, port?: number): Record<string, string> {
  const labels: Record<string, string> = { [`traefik.http.routers.${router}.rule`]: `Host(\`${host}\`)` };
  if (port !== undefined) labels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(port);
  return labels;
}

/** Labels that docker compose puts on every container of `service` in `project`. */
export function composeLabels(project: string, service: string, replica: number): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': String(replica),
    'com.docker.compose.oneoff': 'False',
  };
}
