/**
 * fio job files: an ini format of `[section]` headers, each followed by `key=value` lines
 * and bare flags (`time_based`). Lines whose first non-blank character is `;` or `#` are
 * comments, as are blank lines. The section `[global]` holds defaults for the jobs that
 * follow it; every other section is a job named after its header. Values are taken as
 * written: the backslashes of `filename=\\.\PhysicalDrive0` are kept.
 */

/** A mistake in a job file: what fio prints, the file and the line. */
export class FioJobFileError extends Error {
  constructor(
    /** fio's message ("fio: failed parsing rw=sideways"). */
    readonly fioMessage: string,
    /** The job file as named by the caller. */
    readonly file: string,
    /** 1-based line number (0 when the mistake is not on one line). */
    readonly line: number,
    /** The option concerned, or "" if none. */
    readonly option = "",
  ) {
    super(line > 0 ? `${file}:${line}: ${fioMessage}` : `${file}: ${fioMessage}`);
    this.name = "FioJobFileError";
  }
}

/** One `key=value` or bare flag line. */
export interface JobFileEntry {
  /** The option name as written (lower-cased). */
  key: string;
  /** The value as written, or null for a bare flag. */
  value: string | null;
  /** 1-based line number. */
  line: number;
}

/** A `[section]` and its entries. */
export interface JobFileSection {
  name: string;
  /** Line of the `[name]` header. */
  line: number;
  entries: JobFileEntry[];
}

/** A parsed job file. */
export interface JobFile {
  file: string;
  sections: JobFileSection[];
}

/** Whether a line is blank or a comment, as fio decides: `;` or `#` before anything else. */
function isEmptyOrComment(line: string): boolean {
  for (const ch of line) {
    if (ch === ";" || ch === "#") return true;
    if (ch.trim() !== "" && ch >= " ") return false;
  }
  return true;
}

/**
 * Splits a job file's text into sections and entries. Throws FioJobFileError for a line
 * outside any section ("fio: option <x> outside of [] job section") and for a section
 * header without a name.
 */
export function parseJobFile(text: string, file: string): JobFile {
  const sections: JobFileSection[] = [];
  let current: JobFileSection | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (isEmptyOrComment(raw)) continue;
    const line = raw.trim();
    if (line.startsWith("[")) {
      const m = /^\[([^\]]*)\]/.exec(line);
      const name = m ? m[1].trim() : "";
      if (!m || name === "") throw new FioJobFileError(`fio: bad job section header <${line}>`, file, i + 1);
      current = { name, line: i + 1, entries: [] };
      sections.push(current);
      continue;
    }
    if (!current) throw new FioJobFileError(`fio: option <${line}> outside of [] job section`, file, i + 1);
    const eq = line.indexOf("=");
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : line.slice(eq + 1).trim();
    current.entries.push({ key, value, line: i + 1 });
  }
  return { file, sections };
}
