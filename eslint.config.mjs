// The page scripts are bundled by esbuild, which checks syntax but not names: an identifier left
// undefined by a refactor would only fail in the browser. ESLint's recommended rules catch it first.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["assets/**/*.js", "assets/**/*.mjs"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
  },
  {
    files: ["assets/build.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
];
