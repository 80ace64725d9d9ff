// Facts about the workspace folder the commands act on. No `vscode` import.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The dev container configurations VS Code would offer for a folder (the spec's three locations). */
export function devcontainerConfigs(folder: string): string[] {
  const found: string[] = [];
  const main = path.join(folder, '.devcontainer', 'devcontainer.json');
  const root = path.join(folder, '.devcontainer.json');
  if (isFile(main)) found.push(main);
  if (isFile(root)) found.push(root);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(path.join(folder, '.devcontainer'), { withFileTypes: true });
  } catch {
    /* no .devcontainer folder */
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = path.join(folder, '.devcontainer', e.name, 'devcontainer.json');
    if (isFile(p)) found.push(p);
  }
  return found;
}

export function hasDevcontainerConfig(folder: string): boolean {
  return devcontainerConfigs(folder).length > 0;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
