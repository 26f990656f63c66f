// ONNX Runtime's side of bench-infer-vs-ort.sh and of the ONNX export test.
//   node ort-model.js ORT_DIR bench MODEL.onnx BATCH THREADS SECONDS
//       inference examples/s on random [BATCH, 784] input: "examples/s N
//       per-cpu-second C" (C: per second of the process's CPU time)
//   node ort-model.js ORT_DIR run MODEL.onnx IN.f32 BATCH OUT.f32
//       runs once on raw little-endian float32 input, writes the first output
// Sessions: intraOpNumThreads = THREADS, interOpNumThreads = 1, sequential
// execution, graph optimizations "all" (PEERS.md's strongest CPU setup).
'use strict';
const fs = require('fs');
const [ortDir, mode, model, ...rest] = process.argv.slice(2);
const ort = require(ortDir + '/node_modules/onnxruntime-node');

async function main() {
  const threads = mode === 'bench' ? Number(rest[1]) : 1;
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = sess.inputNames[0], outName = sess.outputNames[0];
  if (mode === 'run') {
    const [inFile, batch, outFile] = rest;
    const buf = fs.readFileSync(inFile);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const b = Number(batch);
    const res = await sess.run({ [inName]: new ort.Tensor('float32', x, [b, x.length / b]) });
    const y = res[outName].data;
    fs.writeFileSync(outFile, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    return;
  }
  const [batch, , seconds] = rest.map(Number);
  const x = new Float32Array(batch * 784);
  for (let i = 0; i < x.length; i++) x[i] = Math.random();
  const feeds = { [inName]: new ort.Tensor('float32', x, [batch, 784]) };
  for (let i = 0; i < 3; i++) await sess.run(feeds);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let dt;
  for (;;) {
    await sess.run(feeds);
    n++;
    dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt >= seconds) break;
  }
  const c = process.cpuUsage(c0), dc = (c.user + c.system) / 1e6;
  console.log('examples/s ' + (n * batch / dt).toFixed(1) + ' per-cpu-second ' + (n * batch / dc).toFixed(1));
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
