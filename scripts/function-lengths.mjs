// Lists the functions of src/ longer than a limit (default 80 lines), using the TypeScript parser.
// A function may be longer when a comment containing "long-function:" right above it says why.
// Usage: node scripts/function-lengths.mjs [limit]   (exit 1 when one is too long)
import ts from 'typescript';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const limit = Number(process.argv[2] ?? 80);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src');
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = path.join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
walk(root);
const long = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      const lines = end - start + 1;
      const leading = text.slice(Math.max(0, node.getFullStart()), node.getStart(sf));
      const excused = /long-function:/.test(leading) || /long-function:/.test(text.slice(Math.max(0, node.getStart(sf) - 400), node.getStart(sf)));
      if (lines > limit && !excused) {
        const name =
          node.name?.getText(sf) ??
          (ts.isVariableDeclaration(node.parent)
            ? node.parent.name.getText(sf)
            : ts.isPropertyAssignment(node.parent)
              ? node.parent.name.getText(sf)
              : '(anonymous)');
        long.push({ file: path.relative(path.dirname(root), file), line: start + 1, name, lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
long.sort((a, b) => b.lines - a.lines);
for (const l of long) console.log(`${l.file}:${l.line} ${l.name}: ${l.lines} lines`);
if (long.length) {
  console.log(`${long.length} function(s) over ${limit} lines (add a "long-function: why" comment above one that must stay long)`);
  process.exit(1);
}
console.log(`no function of src/ is over ${limit} lines`);
