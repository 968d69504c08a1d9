// Builds webapp/static/dist (build output, not committed) from the installed npm packages: some files are
// copied as published, and the BPMN modeller and viewer are bundled with esbuild from assets/js. Nothing
// is vendored: the packages come from npm at set-up.
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "webapp", "static", "dist");
const modules = join(root, "node_modules");
const require = createRequire(import.meta.url);

const copies = [
  ["@picocss/pico/css/pico.min.css", "pico/pico.min.css"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["bpmn-js/dist/assets/diagram-js.css", "bpmn/diagram-js.css"],
  ["bpmn-js/dist/assets/bpmn-js.css", "bpmn/bpmn-js.css"],
  ["bpmn-js/dist/assets/bpmn-font", "bpmn/bpmn-font"],
  ["bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css", "bpmn/bpmn-js-bpmnlint.css"],
  ["@bpmn-io/properties-panel/dist/assets/properties-panel.css", "bpmn/properties-panel.css"],
];

rmSync(dist, { recursive: true, force: true });
for (const [from, to] of copies) {
  const target = join(dist, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(modules, from), target, { recursive: true });
}

// bpmnlint resolves its rules at run time from the file system; the browser needs them compiled into
// a module first (what bpmnlint-loader does for webpack).
const compileConfig = require("bpmnlint/lib/support/compile-config");
const lintConfig = join(root, "assets", "js", ".bpmnlint-compiled.js");
writeFileSync(lintConfig, await compileConfig({ extends: "bpmnlint:recommended" }));

// Every page script in assets/js is its own bundle (modules it imports live in subfolders).
const pages = readdirSync(join(root, "assets", "js")).filter((name) => /^[a-z_]+\.js$/.test(name));
await build({
  entryPoints: Object.fromEntries(pages.map((name) => [name.slice(0, -3), join(root, "assets", "js", name)])),
  outdir: join(dist, "bpmn"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  logLevel: "warning",
});
rmSync(lintConfig);
console.log(`assets: ${copies.length} copies and ${pages.length} bundles in webapp/static/dist`);
