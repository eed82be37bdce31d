// The page entry: runs the workload and publishes its summary (or the error) as window.__gradkitResult.
import { run } from './workload.mjs';

run().then(
  (result) => {
    window.__gradkitResult = { result, error: null, userAgent: navigator.userAgent };
  },
  (e) => {
    window.__gradkitResult = { result: null, error: String(e?.stack ?? e), userAgent: navigator.userAgent };
  },
);
