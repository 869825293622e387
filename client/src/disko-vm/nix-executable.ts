/** The resolution of `nix` lives with the evaluation-backed mode, which runs Nix too (server/src/evaluation). */
export * from '../../../server/src/evaluation/nix-executable';
