/** Nix's internal-json log is read by the evaluation-backed mode too: the parser lives in server/src/evaluation. */
export * from '../../../server/src/evaluation/internal-json';
