// The logger that the runtime gives each middleware: a child that names the middleware and its type.
import { describe, expect, it } from 'vitest';

import { contextFor, runMiddleware } from '../middlewares/header-context.js';
import { captureLogs, LEVEL } from '../middlewares/log-capture.js';
import { runtimeOf } from './helpers.js';

describe('middleware logger', () => {
  it('names middleware and type', async () => {
    const { logger, records } = captureLogs('info');
    const runtime = runtimeOf({
      routers: { app: { rule: 'Host(`app.example.test`)', middlewares: ['guard'] } },
      services: { app: ['http://127.0.0.1:9'] },
      middlewares: { guard: { type: 'circuitBreaker', options: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5' } } },
      logger,
    });
    const middleware = runtime.middlewares.get('guard@docker');
    expect(middleware).toBeDefined();
    if (middleware === undefined) return;

    await runMiddleware(middleware, { ...contextFor(), router: 'app@docker' }, [], 500);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: LEVEL.warn,
      module: 'middleware',
      middlewareName: 'guard@docker',
      middlewareType: 'circuitBreaker',
      routerName: 'app@docker',
    });
  });

  it('silent without a logger', async () => {
    const runtime = runtimeOf({
      routers: { app: { rule: 'Host(`app.example.test`)', middlewares: ['guard'] } },
      services: { app: ['http://127.0.0.1:9'] },
      middlewares: { guard: { type: 'circuitBreaker', options: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5' } } },
    });
    const middleware = runtime.middlewares.get('guard@docker');
    expect(middleware).toBeDefined();
    if (middleware === undefined) return;
    const outcome = await runMiddleware(middleware, { ...contextFor(), router: 'app@docker' }, [], 500);
    expect(outcome.status).toBe(500);
  });
});
