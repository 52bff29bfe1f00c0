// Runs CLI commands in-process against temporary compose files, capturing their output.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandIO } from '../../src/cli/args.js';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** IO that records output, with an empty environment so no DOCKER_HOST or BERTH_* variable leaks in. */
export function captureIO(cwd: string): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (text) => out.push(text), stderr: (text) => err.push(text), env: {}, cwd, isTTY: false };
}

/** Runs `command` with `argv` in `cwd` and returns its exit status and output. */
export async function runCommand(command: (argv: readonly string[], io: CommandIO) => Promise<number>, argv: string[], cwd: string): Promise<CapturedRun> {
  const io = captureIO(cwd);
  const code = await command(argv, io);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

/** A temporary folder for compose projects, removed by `cleanup`. */
export class ComposeFolder {
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<ComposeFolder> {
    return new ComposeFolder(await mkdtemp(join(tmpdir(), 'berth-cli-')));
  }

  /** Writes `yaml` as `<project>/compose.yaml` and returns its path. */
  async write(project: string, yaml: string): Promise<string> {
    await mkdir(join(this.root, project), { recursive: true });
    const file = join(this.root, project, 'compose.yaml');
    await writeFile(file, yaml);
    return file;
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Formats labels as YAML list entries in double quotes, so backticks and colons need no escaping. */
export function labelList(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `      - ${JSON.stringify(`${key}=${value}`)}`)
    .join('\n');
}
