import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    rules: {
      // `_name` marks a value left out on purpose (e.g. a field split off with ...rest).
      "@typescript-eslint/no-unused-vars": ["warn", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  { ignores: ["lib/db/generated/**", ".next/**", "data/**", "test-results/**", "playwright-report/**", "next-env.d.ts", ".scratch*/**"] },
];
export default config;
