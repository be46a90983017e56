// The image's HEALTHCHECK: healthy when every broker of the container answers /ready on its admin
// listener — KBROKER_HTTP_PORT (8080 in the image) and, with KBROKER_THREADS=N, the N − 1 ports after it
// (broker thread k serves port + k − 1, docker/entrypoint.sh). A broker thread that is up but not ready
// (still loading its logs, fenced) makes the container unhealthy, not just the first one.
const port = Number(process.env.KBROKER_HTTP_PORT || 8080);
const brokers = Math.max(1, Number(process.env.KBROKER_THREADS || 1));
const ready = (p) =>
  fetch(`http://127.0.0.1:${p}/ready`, { signal: AbortSignal.timeout(2500) }).then(
    (r) => r.ok,
    () => false,
  );
const answers = await Promise.all(Array.from({ length: brokers }, (_, k) => ready(port + k)));
process.exit(answers.every(Boolean) ? 0 : 1);
