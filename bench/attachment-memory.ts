import { execFile, fork } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3 } from '../test/support/s3.js';
import type { AttachmentProbe, ProbeFiles, TurnProbeResult } from './attachment-memory-probe.js';
import type { Report } from './report.js';
import { median } from './stats.js';
import { scratchDatabase } from './scratch-database.js';

/**
 * The memory bounds of issue 20 for attachments, each measured in a process of its own
 * (attachment-memory-probe.ts) next to the figure the same probe gave before the change:
 *
 * - a turn whose history names one 8 MiB text file 20 times (goal: the process grows < 256 MiB);
 * - the dev server taking a chunked 256 MiB PUT to an upload grant of 4 bytes.
 */
export interface AttachmentMemoryOptions {
  /** A PostgreSQL server (a scratch database is created and dropped there). */
  serverUrl: string;
  /** Turns (and uploads) measured; the figure is their median, with the largest. */
  runs: number;
  report: Report;
}

/**
 * What this probe measured on main before the change (ea260ac; 2026-12-03, median of 5 on this
 * machine: 2 cores, Node 24, PostgreSQL 15): every reference read whole, then cut, and sent to the
 * model once per reference; the upload route buffering the whole body before checking its size.
 * (The issue's ~370 MiB per turn was measured otherwise, on `npm run dev`.)
 */
export const BEFORE = {
  s3TurnGrowthMiB: { median: 154, max: 228 },
  diskTurnGrowthMiB: { median: 248, max: 318 },
  uploadGrowthMiB: { median: 512, max: 769 },
};

const MiB = 2 ** 20;
const SECRET = 'bench-attachment-memory-secret-of-32-bytes';
const run = promisify(execFile);

export async function benchAttachmentMemory({ serverUrl, runs, report }: AttachmentMemoryOptions) {
  const scratch = await scratchDatabase(serverUrl, 'chatkit_bench_attachments');
  const { url } = scratch;
  try {
    const s3 = await startS3({ bucket: 'bench-attachments' });
    let onS3;
    try {
      const key = 'attached/bench/big.txt';
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: Buffer.alloc(8 * MiB, 'x'), ContentType: 'text/plain' }));
      onS3 = await turnGrowth(url, { kind: 's3', endpoint: s3.endpoint, bucket: s3.bucket, key }, runs);
    } finally {
      await s3.close();
    }
    const onDisk = await turnGrowth(url, { kind: 'disk' }, runs);
    const upload = await uploadGrowth(url, runs);
    const figure = ({ median, max }: { median: number; max: number }) => `${median.toFixed(0)} (max ${max.toFixed(0)})`;
    report.say(`## Attachments: how much a process grows, MiB (peak resident set during the work minus before it), median of ${runs}`);
    report.table(
      ['work', 'as shipped', 'before the change (same probe on main ea260ac)', 'goal'],
      [
        ['a turn (the assistant agent) whose history names one 8 MiB text file 20 times, in S3 (s3rver)', figure(onS3), figure(BEFORE.s3TurnGrowthMiB), `< 256: ${onS3.max < 256 ? 'PASS' : 'MISS'}`],
        ['the same, in the dev disk store', figure(onDisk), figure(BEFORE.diskTurnGrowthMiB), `< 256: ${onDisk.max < 256 ? 'PASS' : 'MISS'}`],
        ['the dev server taking a chunked 256 MiB PUT to a 4-byte upload grant', figure(upload), figure(BEFORE.uploadGrowthMiB), 'not hundreds of MiB'],
      ],
    );
    return { s3TurnGrowthMiB: onS3, diskTurnGrowthMiB: onDisk, uploadGrowthMiB: upload, before: BEFORE };
  } finally {
    await scratch.drop();
  }
}

const summary = (values: number[]) => ({ median: median(values), max: Math.max(...values) });

async function turnGrowth(url: string, files: ProbeFiles, turns: number) {
  const probe: AttachmentProbe = { kind: 'turn', url, files, fileMiB: 8, references: 20, turns };
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/attachment-memory-probe.ts', JSON.stringify(probe)], { maxBuffer: 16 * MiB });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as TurnProbeResult;
  return summary(result.growthMiB);
}

async function uploadGrowth(url: string, uploads: number) {
  const probe: AttachmentProbe = { kind: 'upload', url, secret: SECRET };
  const child = fork('bench/attachment-memory-probe.ts', [JSON.stringify(probe)], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<Record<string, unknown>>((resolve) => child.once('message', (message) => resolve(message as Record<string, unknown>)));
  try {
    const { url: base } = (await next()) as { url: string };
    const token = jwt.sign({ sub: 'bench-uploader' }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
    const growth: number[] = [];
    for (let i = 0; i < uploads; i++) {
      const created = await fetch(`${base}/chatkit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'attachments.create', params: { name: 'four.txt', mime_type: 'text/plain', size: 4 } }),
      });
      const { upload_descriptor } = (await created.json()) as { upload_descriptor: { url: string } };
      child.send('mark');
      await next();
      await chunkedPut(upload_descriptor.url, 256 * MiB);
      child.send('peak');
      growth.push(((await next()) as { growthMiB: number }).growthMiB);
    }
    return summary(growth);
  } finally {
    child.send('stop');
  }
}

/** A chunked PUT of `total` bytes in 1 MiB chunks, as fast as the server takes them, until it answers or closes. */
function chunkedPut(target: string, total: number): Promise<void> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    let done = false;
    const finish = () => {
      if (!done) (done = true), resolve();
    };
    const req = request(target, { method: 'PUT', headers: { 'content-type': 'text/plain' } }, (response) => {
      response.resume().on('end', () => {
        req.destroy();
        finish();
      });
    });
    req.on('error', finish);
    req.on('close', finish);
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}
