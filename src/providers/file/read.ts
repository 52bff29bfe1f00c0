// Reading of dynamic configuration files: one file, or every YAML file below a directory. A file
// that cannot be read or parsed, or whose sections have the wrong type, yields an error instead of
// items, so the caller can keep what it read from that file before.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';

import { buildFileItems, type FileItems } from './build.js';
import { YamlDecoder, type FileIssue } from './decode.js';
import { dynamicFileSchema } from './schema.js';

export type ReadResult = { items: FileItems; error?: undefined } | { items?: undefined; error: string };

const YAML_EXTENSIONS = new Set(['.yml', '.yaml']);

/**
 * Sections that hold the items of a file, with the type each must have. Decoding a section of
 * the wrong type would drop every item in it, as if the user had deleted them.
 */
const SECTIONS: ReadonlyArray<{ path: readonly string[]; expected: string }> = [
  { path: ['http'], expected: 'a mapping with routers, services and middlewares' },
  { path: ['http', 'routers'], expected: 'a mapping of router names to routers' },
  { path: ['http', 'services'], expected: 'a mapping of service names to services' },
  { path: ['http', 'middlewares'], expected: 'a mapping of middleware names to middlewares' },
  { path: ['tls'], expected: 'a mapping with certificates, options and stores' },
  { path: ['tls', 'certificates'], expected: 'a list of certificates' },
  { path: ['tls', 'options'], expected: 'a mapping of names to TLS options' },
  { path: ['tls', 'stores'], expected: 'a mapping of store names to stores' },
];

/** Reads and decodes one dynamic configuration file. */
export async function readDynamicFile(path: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { error: `file ${path} cannot be read: ${describeFsError(error)}` };
  }
  return parseDynamicText(text, path);
}

/** Parses and decodes the text of the file `path` (used in messages). */
export function parseDynamicText(text: string, path: string): ReadResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [parseError] = document.errors;
  if (parseError !== undefined) {
    const { line, col } = lineCounter.linePos(parseError.pos[0]);
    const reason = parseError.message.split('\n')[0] ?? parseError.message;
    return { error: `file ${path} is not valid YAML at line ${line}, column ${col}: ${reason}` };
  }

  // An empty file is a valid configuration with no items, as after emptying a file to remove its routes.
  const root = document.contents;
  const isEmpty = root === null || (isScalar(root) && root.value === null);
  if (!isEmpty && !isMap(root)) {
    return { error: `file ${path} must contain a mapping with http and tls sections, such as "http:" on the first line` };
  }

  const decoder = new YamlDecoder(document, lineCounter);
  const decoded = decoder.decode(dynamicFileSchema);
  const structureError = findStructureError(path, decoder.issues);
  if (structureError !== undefined) return { error: structureError };
  return { items: buildFileItems(path, decoded, decoder.issues) };
}

/**
 * Returns the error for the first unknown top-level key or section of the wrong type, such as
 * `http.routers: 5`, or undefined. Items of the wrong type inside a section are not checked here,
 * because they disable only that item.
 */
function findStructureError(path: string, issues: readonly FileIssue[]): string | undefined {
  for (const issue of issues) {
    // A misspelled section, such as `htttp:`, would otherwise read as a file without that section.
    if (issue.unknownKey === true && issue.path.length === 0) return `file ${path} has an invalid structure: ${issue.message}`;
    if (issue.typeMismatch === undefined) continue;
    const section = SECTIONS.find((candidate) => candidate.path.length === issue.path.length && candidate.path.every((segment, index) => issue.path[index] === segment));
    if (section === undefined) continue;
    const { key, found } = issue.typeMismatch;
    return `file ${path} has an invalid structure: ${key} must be ${section.expected}, not ${found}`;
  }
  return undefined;
}

export interface DirectoryListing {
  /** YAML files, sorted by path, so items defined twice always resolve the same way. */
  files: string[];
  /** The directory and every subdirectory read, for watching. */
  directories: string[];
  /** Files skipped on purpose, such as TOML files, with the reason. */
  warnings: string[];
}

/**
 * Lists the YAML files in `directory` and its subdirectories. Names that start with a dot are
 * skipped: they are editor swap files and the `..data` copies of Kubernetes config map volumes,
 * whose files also appear under their plain names.
 */
export async function listDynamicFiles(directory: string): Promise<DirectoryListing> {
  const listing: DirectoryListing = { files: [], directories: [], warnings: [] };
  const visited = new Set<string>();

  const visit = async (current: string): Promise<void> => {
    // A symbolic link back to a parent would otherwise be followed forever.
    const real = await realpath(current);
    if (visited.has(real)) return;
    visited.add(real);
    listing.directories.push(current);

    const names = (await readdir(current)).filter((name) => !name.startsWith('.')).sort();
    for (const name of names) {
      const path = join(current, name);
      let kind: 'file' | 'directory' | 'other';
      try {
        const info = await stat(path);
        kind = info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other';
      } catch {
        // A dangling symbolic link, or a file removed while listing. The next change reads the directory again.
        continue;
      }
      if (kind === 'directory') await visit(path);
      else if (kind === 'file' && YAML_EXTENSIONS.has(extname(name).toLowerCase())) listing.files.push(path);
      else if (kind === 'file' && extname(name).toLowerCase() === '.toml') listing.warnings.push(`file ${path} is ignored: Berth reads YAML only; convert it to .yaml, whose keys are the same`);
    }
  };

  await visit(directory);
  listing.files.sort();
  return listing;
}

/** Describes a file system error in a few words, such as `it does not exist`. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a parent of it is not a directory';
  return (error as Error).message;
}
