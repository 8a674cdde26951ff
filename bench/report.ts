/** The bench's output: markdown lines, printed as they come and kept for results/latest.md. */
export interface Report {
  lines: string[];
  say(line?: string): void;
  table(head: string[], rows: Array<Array<string | number>>): void;
}

export function createReport(): Report {
  const lines: string[] = [];
  const say = (line = '') => {
    lines.push(line);
    console.log(line);
  };
  return {
    lines,
    say,
    table(head, rows) {
      say(`| ${head.join(' | ')} |`);
      say(`|${head.map(() => '---').join('|')}|`);
      for (const row of rows) say(`| ${row.join(' | ')} |`);
      say();
    },
  };
}
