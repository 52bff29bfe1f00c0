// Traefik's `chain` middleware: runs other middlewares, named in `middlewares`, in order, so that
// routers can share one list. A name without `@provider` refers to the chain's own provider, as a
// router's middleware names do. A chain may name another chain. A missing or disabled member, or
// a loop of chains, disables the chain and so every router that uses it.
import type { MergedConfig, MergedMiddleware } from '../dynamic/merged.js';
import { qualifyName, withOrigin } from '../dynamic/merged.js';
import { stringList } from './options.js';
import type { Middleware } from './types.js';
import { quoteValue } from '../quote.js';

/** Returns whether `middleware` is a chain, which `buildChains` builds rather than the registry. */
export function isChain(middleware: MergedMiddleware): boolean {
  return middleware.type.toLowerCase() === 'chain';
}

/** Runs `members` in order, then `next`. Each member may respond itself and stop the chain. */
export function createChain(members: readonly Middleware[]): Middleware {
  return async (context, next) => {
    const step = async (index: number): Promise<void> => {
      const member = members[index];
      if (member === undefined) return next();
      return member(context, () => step(index + 1));
    };
    await step(0);
  };
}

/** Returns the qualified names of the middlewares that `chain` runs, in order. */
export function chainMemberNames(chain: MergedMiddleware): string[] {
  return stringList(chain.options, 'middlewares').map((name) => qualifyName(name, chain.provider));
}

/**
 * Builds every chain of `config` into `built`, which already contains the other middlewares that
 * have no errors. A chain that cannot be built gets an error on its item and stays out of `built`.
 */
export function buildChains(config: MergedConfig, built: Map<string, Middleware>): void {
  for (const middleware of config.middlewares.values()) {
    if (isChain(middleware)) buildChain(middleware, config, built, []);
  }
}

/** Builds one chain and the chains it names; `path` lists the chains being built, to find loops. */
function buildChain(chain: MergedMiddleware, config: MergedConfig, built: Map<string, Middleware>, path: readonly string[]): Middleware | undefined {
  if (chain.errors.length > 0) return undefined;
  const existing = built.get(chain.name);
  if (existing !== undefined) return existing;

  const names = chainMemberNames(chain);
  if (names.length === 0) {
    fail(chain, 'chain middlewares is missing: list the middlewares to run, for example chain.middlewares=auth,compress');
    return undefined;
  }

  const members: Middleware[] = [];
  for (const name of names) {
    if (name === chain.name || path.includes(name)) {
      fail(chain, `chain middlewares form a loop: ${[...path, chain.name, name].join(' -> ')}; remove one of these references`);
      return undefined;
    }
    const member = config.middlewares.get(name);
    if (member === undefined) {
      fail(chain, `chain middleware ${quoteValue(name)} does not exist; define it or remove it from the chain's middlewares`);
      return undefined;
    }
    const instance = isChain(member) ? buildChain(member, config, built, [...path, chain.name]) : built.get(name);
    if (instance === undefined) {
      fail(chain, `chain middleware ${quoteValue(name)} is disabled: ${member.errors[0] ?? 'see that middleware in the API'}`);
      return undefined;
    }
    members.push(instance);
  }

  const instance = createChain(members);
  built.set(chain.name, instance);
  return instance;
}

function fail(chain: MergedMiddleware, message: string): void {
  const error = withOrigin(chain, message);
  if (!chain.errors.includes(error)) chain.errors.push(error);
}
