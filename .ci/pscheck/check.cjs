// Parses each PowerShell file given on the command line and fails on any ERROR or MISSING node, printing where.
const fs = require('fs');
const { Parser, Language } = require('web-tree-sitter');

function problems(node, found = []) {
  if (node.isError || node.isMissing) {
    found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? 'missing ' + node.type : 'syntax error'}`);
  }
  for (const child of node.children) {
    if (child.hasError || child.isError || child.isMissing) problems(child, found);
  }
  return found;
}

(async () => {
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  const parser = new Parser();
  parser.setLanguage(language);
  let failed = 0;
  const files = process.argv.slice(2);
  for (const file of files) {
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const found = tree.rootNode.hasError ? problems(tree.rootNode) : [];
    if (found.length > 0) {
      failed++;
      for (const p of found.slice(0, 10)) console.log(`${file}:${p}`);
    }
  }
  console.log(`pscheck: ${files.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 && files.length > 0 ? 0 : 1);
})().catch(e => { console.error(e); process.exit(1); });
