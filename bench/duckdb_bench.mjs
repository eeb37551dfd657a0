// duckdb_bench.mjs: the DuckDB baseline of bench/run.sh.
//
// Design notes.  DuckDB (the pinned @duckdb/node-api in bench/node_modules)
// runs in process with ONE thread (threads=1 at open, and SET threads=1
// again), on the same .json.gz log objects the S3 rig serves, read from
// local disk by a glob that matches exactly the log objects (the hour
// folder's files, not its data/ sidecars).  The glob's file count is
// checked against what the caller expects.  Each query runs once as a
// warm-up, then RUNS times; the times (seconds, wall clock around the query
// and the fetch of its result), the process's CPU seconds in each run and
// the warm-up's result go to stdout as one JSON object.
//
//   agg   the aggregate of figure 1: modelId, count(*), sum of
//         input.inputTokenCount, sum of output.outputTokenCount.  An explicit
//         columns spec names only those three members, so DuckDB's reader
//         skips (but still parses) everything else, as bedlog_fdw does.
//   full  figure 2: every field bedlog_fdw's canonical columns cover, typed
//         like them (timestamp TIMESTAMPTZ, text as VARCHAR, token counts
//         BIGINT, bodies and requestMetadata as JSON, i.e. validated raw
//         text), plus the file name, materialised into a temporary table
//         (CREATE TEMP TABLE AS), so that no column can be skipped by
//         projection pushdown.  The table's row count is the result.
//
// Usage: node duckdb_bench.mjs MODE GLOB EXPECTED_FILES RUNS
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, glob, expectedFiles, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
if (!['agg', 'full'].includes(mode) || !glob) {
  process.stderr.write('usage: node duckdb_bench.mjs agg|full GLOB EXPECTED_FILES RUNS\n');
  process.exit(2);
}

const q = (s) => `'${s.replace(/'/g, "''")}'`;
const AGG_COLUMNS = `{modelId: 'VARCHAR', input: 'STRUCT(inputTokenCount BIGINT)',
  output: 'STRUCT(outputTokenCount BIGINT)'}`;
const FULL_COLUMNS = `{
  "timestamp": 'TIMESTAMPTZ', accountId: 'VARCHAR', region: 'VARCHAR', inferenceRegion: 'VARCHAR',
  requestId: 'VARCHAR', operation: 'VARCHAR', modelId: 'VARCHAR', identity: 'STRUCT(arn VARCHAR)',
  requestMetadata: 'JSON', errorCode: 'VARCHAR',
  input: 'STRUCT(inputContentType VARCHAR, inputBodyJson JSON, inputBodyS3Path VARCHAR,
    inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)',
  output: 'STRUCT(outputContentType VARCHAR, outputBodyJson JSON, outputBodyS3Path VARCHAR,
    outputTokenCount BIGINT)',
  schemaType: 'VARCHAR', schemaVersion: 'VARCHAR'}`;

function reader(columns, extra = '') {
  return `read_json(${q(glob)}, format = 'newline_delimited', compression = 'gzip',
    columns = ${columns}${extra})`;
}

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
await con.run('SET threads = 1');
await con.run("SET TimeZone = 'UTC'");
const threads = (await con.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
const nfiles = Number((await con.runAndReadAll(`SELECT count(*) FROM glob(${q(glob)})`)).getRows()[0][0]);
if (expectedFiles && nfiles !== Number(expectedFiles)) {
  process.stderr.write(`duckdb_bench: glob matches ${nfiles} files, expected ${expectedFiles}\n`);
  process.exit(1);
}

let once;
if (mode === 'agg') {
  const sql = `SELECT modelId AS model_id, count(*) AS n, sum(input.inputTokenCount) AS input_tokens,
      sum(output.outputTokenCount) AS output_tokens
    FROM ${reader(AGG_COLUMNS)} GROUP BY 1 ORDER BY 1`;
  once = async () => (await con.runAndReadAll(sql)).getRows()
    .map((r) => [r[0], String(r[1]), r[2] === null ? '' : String(r[2]), r[3] === null ? '' : String(r[3])]);
} else {
  const sql = `CREATE OR REPLACE TEMP TABLE full_rows AS SELECT * FROM ${reader(FULL_COLUMNS, ', filename = true')}`;
  once = async () => {
    await con.run(sql);
    const n = (await con.runAndReadAll('SELECT count(*) FROM full_rows')).getRows()[0][0];
    await con.run('DROP TABLE full_rows');
    return String(n);
  };
}

const result = await once(); // warm-up
const times = [];
const cpu = [];
for (let i = 0; i < runs; i++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await once();
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
}
process.stdout.write(JSON.stringify({ mode, threads: String(threads), files: nfiles, times, cpu, result }) + '\n');
