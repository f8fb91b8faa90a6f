// Node 20's V8 crashes now and then ("Fatal error … unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation; see nodejs/node#51555) in processes that call Cedar's
// WebAssembly on hot paths. Not inlining JS-to-WebAssembly calls avoids the deoptimization path
// that crashed; it costs little. Every such process sets it before its code warms up: the server,
// the benchmarks (which host the provider and the decision point in-process) and the test workers.
// Not "server-only": server.ts and bench/ load it outside Next.
import v8 from "node:v8";

export function avoidWasmDeoptCrash(): void {
  v8.setFlagsFromString("--no-turbo-inline-js-wasm-calls");
}
