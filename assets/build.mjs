// Copies the installed front-end packages the web app serves into webapp/static/dist (build output,
// not committed). Files are copied as published: the packages are installed from npm, never vendored.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "webapp", "static", "dist");
const modules = join(root, "node_modules");

const copies = [
  ["@picocss/pico/css/pico.min.css", "pico/pico.min.css"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
];

rmSync(dist, { recursive: true, force: true });
for (const [from, to] of copies) {
  const target = join(dist, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(modules, from), target);
}
console.log(`assets: ${copies.length} files copied to webapp/static/dist`);
