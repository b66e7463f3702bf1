// The shapes of /api/v1 (docs/api.md). Times are Unix milliseconds.

export type Role = 'admin' | 'developer';

export interface User {
  id: number;
  name: string;
  role: Role;
  created_at?: number;
}

export interface LoginAnswer {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  user: User;
}

export interface ApiKey {
  id: string | number;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
}

export interface NewApiKey {
  id: string | number;
  name: string;
  key: string;
}

export interface NodeToken {
  token: string;
  expires_at: number;
}

export interface Telemetry {
  cpu_load?: number;
  mem_total_bytes?: number;
  mem_free_bytes?: number;
  battery_percent?: number | null;
  charging?: boolean | null;
  temperature_c?: number | null;
  slots_total?: number;
  slots_in_use?: number;
  accepting?: boolean;
  refusal_reason?: string;
}

export interface NodeInfo {
  id: string;
  name: string;
  target: string;
  online: boolean;
  last_seen_at: number | null;
  telemetry: Telemetry | null;
}

export interface FunctionSettings {
  memory_mb?: number;
  timeout_ms?: number;
  fuel?: number | null;
  env?: string[];
  entry?: string;
}

export interface FunctionSummary {
  name: string;
  latest_version: number;
  updated_at: number;
  stats_24h: { invocations: number; errors: number; avg_ms: number | null };
  // The final state of the latest invocation, when the server reports it.
  last_status?: string | null;
}

export interface FunctionVersion {
  version: number;
  module_sha256: string;
  module_size: number;
  settings: FunctionSettings;
  created_at: number;
}

export interface Schedule {
  id: number | string;
  cron: string;
  next_fire_at: number | null;
}

export interface FunctionDetail {
  name: string;
  latest_version: number;
  versions: FunctionVersion[];
  schedules: Schedule[];
}

export interface DeployAnswer {
  name: string;
  version: number;
  module_sha256: string;
  module_size: number;
  settings: FunctionSettings;
}

export type InvocationState =
  | 'queued'
  | 'dispatched'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out';

export const INVOCATION_STATES: readonly InvocationState[] = [
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'timed_out',
];

export const FINAL_STATES: readonly InvocationState[] = ['succeeded', 'failed', 'timed_out'];

export interface InvocationResult {
  status: string;
  exit_code: number;
  message: string;
  fuel_used: number;
  peak_memory_bytes: number;
  wall_ms: number;
  output_sha256: string;
  output_truncated: boolean;
  stderr_truncated: boolean;
}

export interface InvocationEventRecord {
  state: InvocationState;
  at: number;
  node_id: string | null;
  detail: string;
}

export interface Invocation {
  id: string;
  function: string;
  version: number;
  state: InvocationState;
  attempts: number;
  node_id: string | null;
  queued_at: number;
  dispatched_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  result: InvocationResult | null;
  events?: InvocationEventRecord[];
}

export interface InvocationPage {
  invocations: Invocation[];
  next: string | null;
}

export interface Logs {
  stdout: string;
  stderr: string;
  encoding: 'utf8' | 'base64';
}

export interface UsageMonth {
  month: string;
  invocations: number;
  compute_mb_seconds: number;
  fuel: number;
}

export interface UsageDay {
  day: string;
  invocations: number;
  compute_mb_seconds: number;
  fuel: number;
}

export interface Quota {
  max_concurrent: number;
  max_per_day: number;
  max_memory_mb: number;
}

export interface UsageAnswer {
  months: UsageMonth[];
  quota: Quota;
  today: { invocations: number };
  active: number;
  // Per UTC day of the current month, when the server reports it.
  days?: UsageDay[];
}

// The answer to a synchronous invoke: the output bytes and the X-Milf-* headers.
export interface SyncInvokeAnswer {
  id: string | null;
  status: string | null;
  runStatus: string | null;
  durationMs: number | null;
  fuel: number | null;
  output: Uint8Array;
}

// A compiler's message about the source, as POST /compile and
// POST /functions/{name}/source report it (lines and columns 1-based).
export interface CompileDiagnosticAnswer {
  file: string;
  line: number | null;
  column: number | null;
  severity: string;
  message: string;
}

// A successful compile: the module's size and the compiler's warnings.
export interface CompileAnswer {
  language: string;
  cached: boolean;
  duration_ms: number;
  wasm_size: number;
  diagnostics: CompileDiagnosticAnswer[];
}

export interface SourceDeployAnswer extends DeployAnswer {
  compile: CompileAnswer;
}

// GET /functions/{name}/source: the file the latest version was compiled from.
export interface FunctionSource {
  filename: string;
  language: string; // "" when the server does not name it
  source: string;
  version: number;
}
