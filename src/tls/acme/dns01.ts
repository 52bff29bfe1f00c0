// The DNS-01 challenge (RFC 8555 section 8.4): a TXT record at `_acme-challenge.<domain>` contains
// the digest of the key authorization. An order for `example.com` and `*.example.com` has two
// challenges for the same name, so both records must exist at once: records are always added,
// never replaced, and removed by the IDs Berth got when it created them.

import type { Logger } from '../../observability/logger.js';
import type { DnsProvider, DnsZone, TxtRecord } from '../dns/provider.js';
import { type ExpectedTxt, type PropagationOptions, waitForPropagation } from '../dns/propagation.js';
import type { ChallengeCleanup, ChallengeSolver, PendingChallenge } from './challenges.js';

/** Persistent list of the IDs of created records until they are deleted, so a crash's leftovers can be removed. */
export interface RecordJournal {
  add(record: TxtRecord): Promise<void>;
  remove(record: TxtRecord): Promise<void>;
}

export interface Dns01SolverOptions {
  provider: DnsProvider;
  propagation: PropagationOptions;
  journal: RecordJournal;
  logger: Logger;
}

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01';
  readonly #options: Dns01SolverOptions;

  constructor(options: Dns01SolverOptions) {
    this.#options = options;
  }

  async present(challenges: readonly PendingChallenge[]): Promise<ChallengeCleanup> {
    const { provider, journal } = this.#options;
    const created: TxtRecord[] = [];
    const cleanup = (): Promise<void> => this.#remove(created);

    try {
      const byZone = new Map<string, { zone: DnsZone; expected: ExpectedTxt[] }>();
      for (const item of challenges) {
        const zone = await provider.findZone(item.domain);
        const name = `_acme-challenge.${item.domain}`;
        const record = await provider.createTxt(zone, name, item.keyAuthorization);
        created.push(record);
        await journal.add(record);
        this.#options.logger.debug({ recordName: name, zone: zone.name }, 'created DNS-01 TXT record');

        const group = byZone.get(zone.id) ?? { zone, expected: [] };
        group.expected.push({ name, value: item.keyAuthorization });
        byZone.set(zone.id, group);
      }

      // Every record of the order is checked, so the CA never queries a name that has only one of its two values.
      for (const { zone, expected } of byZone.values()) {
        await waitForPropagation(expected, zone, this.#options.propagation);
      }
    } catch (error) {
      await cleanup();
      throw error;
    }
    return cleanup;
  }

  /** Deletes records by ID; a record that cannot be deleted stays in the journal for the next start. */
  async #remove(records: readonly TxtRecord[]): Promise<void> {
    for (const record of records) {
      try {
        await this.#options.provider.deleteTxt(record);
        await this.#options.journal.remove(record);
      } catch (error) {
        this.#options.logger.warn({ err: error, recordName: record.name, recordId: record.recordId }, 'deleting a DNS-01 TXT record failed; Berth retries at the next start');
      }
    }
  }
}

/** Deletes records that a previous run created and did not delete, such as after a crash. Returns those still left. */
export async function removeLeftoverRecords(
  provider: DnsProvider,
  records: readonly TxtRecord[],
  journal: RecordJournal,
  logger: Logger,
): Promise<TxtRecord[]> {
  const left: TxtRecord[] = [];
  for (const record of records.filter((item) => item.provider === provider.name)) {
    try {
      await provider.deleteTxt(record);
      await journal.remove(record);
      logger.info({ recordName: record.name, recordId: record.recordId }, 'deleted a DNS-01 TXT record left by an earlier run');
    } catch (error) {
      left.push(record);
      logger.warn({ err: error, recordName: record.name, recordId: record.recordId }, 'deleting a leftover DNS-01 TXT record failed');
    }
  }
  return left;
}
