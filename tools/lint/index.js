// The linter's entry point: typescript-eslint resolved from this folder, where TypeScript 5 (with the JavaScript
// API its parser needs) is installed, not the project's TypeScript 7 compiler at the root.
export { default } from 'typescript-eslint';
