// Preloaded (--import) into a function's process by test/support/lambda-process.ts to observe it:
// each module file it loads and the first write of each response to the Runtime API, one line each
// on stderr, in the order they happen. Changes nothing the function does.
import http from 'node:http';
import { registerHooks } from 'node:module';

const note = (line) => process.stderr.write(`@@observe ${line}\n`);
registerHooks({
  load(url, context, next) {
    if (url.startsWith('file:') && !url.includes('/node_modules/aws-lambda-ric/')) note(`load ${url}`);
    return next(url, context);
  },
});
const request = http.request;
// The runtime client takes http.request when it loads, after this preload.
http.request = function observedRequest(...args) {
  const req = request.apply(this, args);
  const path = typeof args[0] === 'object' ? args[0].path : String(args[0]);
  if (/\/invocation\/[^/]+\/response$/.test(path ?? '')) {
    const write = req.write;
    let first = true;
    req.write = function observedWrite(...chunk) {
      if (first) note(`first response write ${path}`);
      first = false;
      return write.apply(this, chunk);
    };
  }
  return req;
};
