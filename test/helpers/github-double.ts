// A local double of the parts of GitHub's REST API the Action and the status writer use, over
// node:http on 127.0.0.1, enforcing the limits of shared/contracts/github.md:
//   POST   /repos/{o}/{r}/statuses/{sha}               422 when description > 140 characters,
//                                                      422 past 1000 statuses per sha and context
//   GET    /repos/{o}/{r}/commits/{ref}/statuses       newest first, paginated
//   GET    /repos/{o}/{r}/commits/{ref}/status         combined: latest per context, paginated
//   GET    /repos/{o}/{r}/issues/{n}/comments          oldest first, paginated (Link, per_page <= 100)
//   POST   /repos/{o}/{r}/issues/{n}/comments          422 over 65,536 characters
//   PATCH  /repos/{o}/{r}/issues/comments/{id}         422 over 65,536 characters
//   DELETE /repos/{o}/{r}/issues/comments/{id}
// A read-only token gets 403 on every write (a fork's pull request). Rate limits: a primary limit
// per token (x-ratelimit-* headers on every answer; 403 with remaining 0 and a reset time), the
// secondary limit on content-creating requests (403 with retry-after), and injected limits
// (403/429, retry-after or x-ratelimit-reset) for the next requests. Every request is recorded.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface DoubleStatus {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
}

export interface DoubleComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface DoubleRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** 'write', 'read', 'none' or 'bad': which kind of token was used. */
  token: 'write' | 'read' | 'none' | 'bad';
  at: number;
  /** The limit that answered, when one did. */
  limited?: string;
}

export type InjectedLimit =
  /** 403 "You have exceeded a secondary rate limit" with retry-after. */
  | 'secondary-403'
  /** 429 with the same message and retry-after. */
  | 'secondary-429'
  /** 403 with x-ratelimit-remaining: 0 and x-ratelimit-reset (no retry-after). */
  | 'primary-403'
  /** 429 with x-ratelimit-remaining: 0 and x-ratelimit-reset. */
  | 'primary-429'
  /** 502 Bad Gateway. */
  | 'server-error';

export interface GitHubDoubleOptions {
  /** Tokens that may write. Default ['ghs_writeToken0123456789']. */
  readonly writeTokens?: readonly string[];
  /** Tokens that may only read (a fork's pull request). Default ['ghs_readOnlyToken0123456789']. */
  readonly readTokens?: readonly string[];
  /** Primary limit per token. Default 1000 requests per hour (GITHUB_TOKEN). */
  readonly primary?: { readonly limit: number; readonly windowMs: number };
  /** Secondary limits on content-creating requests. Default 80 per minute and 500 per hour. */
  readonly secondary?: ReadonlyArray<{ readonly max: number; readonly windowMs: number }>;
  /** Which commits exist (422 "No commit found" otherwise). Default: every 40-hex sha. */
  readonly commitExists?: (owner: string, repo: string, sha: string) => boolean | Promise<boolean>;
  /** Added to every answer. Default 0. */
  readonly latencyMs?: number;
}

export interface GitHubDouble {
  readonly url: string;
  readonly writeToken: string;
  readonly readToken: string;
  /** Every status posted (accepted), oldest first; of one commit when `sha` is given. */
  statuses(sha?: string): DoubleStatus[];
  /** The latest status per context of a commit (what GitHub shows), by lower-cased context. */
  current(sha: string): Map<string, DoubleStatus>;
  /** Comments of a pull request (or all), oldest first. */
  comments(issue?: number): DoubleComment[];
  /** Add `count` statuses directly (to reach the 1000 cap without 1000 requests). */
  seedStatuses(owner: string, repo: string, sha: string, context: string, count: number, state?: DoubleStatus['state']): void;
  /** Add a comment as someone else (to fill pages before the Action's). */
  addComment(issue: number, body: string, user?: string): DoubleComment;
  requests(): DoubleRequest[];
  /** The next `count` requests (of these methods) get this answer instead. */
  inject(kind: InjectedLimit, count?: number, opts?: { methods?: string[]; retryAfterSeconds?: number; resetSeconds?: number }): void;
  /** Most writes seen in flight at once (GitHub asks for one at a time). */
  readonly maxConcurrentWrites: number;
  reset(): void;
  close(): Promise<void>;
}

const MAX_DESCRIPTION = 140;
const MAX_STATUSES = 1000;
const MAX_BODY = 65_536;
const DOCS = 'https://docs.github.com/rest';

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const writeTokens = new Set(options.writeTokens ?? ['ghs_writeToken0123456789']);
  const readTokens = new Set(options.readTokens ?? ['ghs_readOnlyToken0123456789']);
  const primary = options.primary ?? { limit: 1000, windowMs: 3_600_000 };
  const secondary = options.secondary ?? [
    { max: 80, windowMs: 60_000 },
    { max: 500, windowMs: 3_600_000 },
  ];
  let statuses: DoubleStatus[] = [];
  let comments: DoubleComment[] = [];
  let log: DoubleRequest[] = [];
  let nextId = 1000;
  let injected: Array<{ kind: InjectedLimit; methods: string[] | null; retryAfter: number; reset: number }> = [];
  const primaryUse = new Map<string, { start: number; used: number }>();
  let writeTimes: number[] = [];
  let inFlightWrites = 0;
  let maxConcurrentWrites = 0;
  let base = '';

  const repoKey = (o: string, r: string) => `${o}/${r}`.toLowerCase();
  const statusRepo = new Map<number, string>();
  const commentRepo = new Map<number, string>();
  /** Comments added by a test (addComment) belong to every repository. */
  const inRepo = (id: number, key: string) => commentRepo.get(id) === key || commentRepo.get(id) === '*';

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        send(res, 500, { message: `double crashed: ${(e as Error).message}` });
      });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function send(res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const u = new URL(req.url ?? '/', base);
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(u.searchParams);
    const record: DoubleRequest = { method, path: u.pathname, query, status: 0, token: 'none', at: Date.now() };
    log.push(record);
    const isWrite = method !== 'GET' && method !== 'HEAD';
    if (isWrite) {
      inFlightWrites++;
      maxConcurrentWrites = Math.max(maxConcurrentWrites, inFlightWrites);
    }
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (isWrite) inFlightWrites--;
      send(res, status, body, { ...rateHeaders(), ...headers });
    };
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));

    // Authentication.
    const auth = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const kind: DoubleRequest['token'] = !auth ? 'none' : writeTokens.has(auth) ? 'write' : readTokens.has(auth) ? 'read' : 'bad';
    record.token = kind;
    const tokenKey = auth ?? '(anonymous)';
    function rateHeaders(): Record<string, string> {
      const p = primaryUse.get(tokenKey);
      const used = p?.used ?? 0;
      const reset = Math.ceil(((p?.start ?? Date.now()) + primary.windowMs) / 1000);
      return {
        'x-ratelimit-limit': String(primary.limit),
        'x-ratelimit-remaining': String(Math.max(0, primary.limit - used)),
        'x-ratelimit-used': String(used),
        'x-ratelimit-reset': String(reset),
        'x-ratelimit-resource': 'core',
      };
    }
    if (kind === 'none' || kind === 'bad') return answer(401, { message: 'Bad credentials', documentation_url: DOCS });

    // Injected limits first (they stand for limits the double does not compute).
    const inj = injected.find((i) => !i.methods || i.methods.includes(method));
    if (inj) {
      injected.splice(injected.indexOf(inj), 1);
      record.limited = inj.kind;
      if (inj.kind === 'server-error') return answer(502, { message: 'Server Error' });
      if (inj.kind.startsWith('secondary')) {
        return answer(
          inj.kind === 'secondary-429' ? 429 : 403,
          { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS },
          { 'retry-after': String(inj.retryAfter) },
        );
      }
      const reset = String(Math.ceil(Date.now() / 1000 + inj.reset));
      return answer(
        inj.kind === 'primary-429' ? 429 : 403,
        { message: 'API rate limit exceeded for installation.', documentation_url: DOCS },
        { ...rateHeaders(), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      );
    }

    // Primary limit per token.
    const now = Date.now();
    let p = primaryUse.get(tokenKey);
    if (!p || now - p.start >= primary.windowMs) {
      p = { start: now, used: 0 };
      primaryUse.set(tokenKey, p);
    }
    if (p.used >= primary.limit) {
      record.limited = 'primary';
      return answer(403, { message: 'API rate limit exceeded for installation.', documentation_url: DOCS }, { 'x-ratelimit-remaining': '0' });
    }
    p.used++;

    // Read-only tokens cannot write (before the secondary limit: GitHub answers 403 for permissions first).
    if (isWrite && kind === 'read') return answer(403, { message: 'Resource not accessible by integration', documentation_url: DOCS });

    // Secondary limit on content-creating requests.
    if (isWrite) {
      for (const s of secondary) {
        const recent = writeTimes.filter((t) => now - t < s.windowMs);
        if (recent.length >= s.max) {
          const retryAfter = Math.max(1, Math.ceil((recent[0]! + s.windowMs - now) / 1000));
          record.limited = 'secondary';
          return answer(
            403,
            { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS },
            { 'retry-after': String(retryAfter) },
          );
        }
      }
      writeTimes.push(now);
      const longest = Math.max(...secondary.map((s) => s.windowMs), 0);
      writeTimes = writeTimes.filter((t) => now - t < longest);
    }

    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return answer(400, { message: 'Problems parsing JSON', documentation_url: DOCS });
      }
    }
    const page = Math.max(1, Number(query.page ?? 1) || 1);
    const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30) || 30));
    const paginate = <T>(items: T[]): { items: T[]; link: Record<string, string> } => {
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const at = (n: number) => {
        const q = new URL(u.toString());
        q.searchParams.set('per_page', String(perPage));
        q.searchParams.set('page', String(n));
        return q.toString();
      };
      const links: string[] = [];
      if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
      if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`);
      return { items: items.slice((page - 1) * perPage, page * perPage), link: links.length ? { link: links.join(', ') } : {} };
    };
    const commentJson = (c: DoubleComment, o: string, r: string) => ({
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${base}/repos/${o}/${r}/issues/comments/${c.id}`,
      html_url: `https://github.com/${o}/${r}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${base}/repos/${o}/${r}/issues/${c.issue}`,
      body: c.body,
      user: { login: c.user, id: 1, type: c.user.endsWith('[bot]') ? 'Bot' : 'User' },
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: 'NONE',
    });
    const statusJson = (s: DoubleStatus, o: string, r: string) => ({
      id: s.id,
      node_id: `SC_${s.id}`,
      url: `${base}/repos/${o}/${r}/statuses/${s.sha}`,
      state: s.state,
      description: s.description,
      target_url: s.target_url,
      context: s.context,
      avatar_url: null,
      created_at: s.created_at,
      updated_at: s.created_at,
      creator: { login: 'github-actions[bot]', id: 41898282 },
    });
    const shaOk = async (o: string, r: string, sha: string) =>
      /^[0-9a-f]{40}$/i.test(sha) && (options.commitExists ? await options.commitExists(o, r, sha) : true);
    const latest = (key: string, sha: string) => {
      const by = new Map<string, DoubleStatus>();
      for (const s of statuses) if (s.sha === sha && statusRepo.get(s.id) === key) by.set(s.context.toLowerCase(), s);
      return [...by.values()];
    };

    let m: RegExpExecArray | null;
    const path = u.pathname;
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/.exec(path)) && method === 'POST') {
      const [, o, r, sha] = m as unknown as [string, string, string, string];
      if (!(await shaOk(o, r, sha))) return answer(422, { message: `No commit found for SHA: ${sha}`, documentation_url: DOCS });
      const state = body.state;
      if (state !== 'error' && state !== 'failure' && state !== 'pending' && state !== 'success') {
        return answer(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', code: 'custom', field: 'state', message: 'state is not included in the list' }],
          documentation_url: DOCS,
        });
      }
      const description = body.description === undefined || body.description === null ? null : String(body.description);
      if (description !== null && [...description].length > MAX_DESCRIPTION) {
        return answer(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }],
          documentation_url: DOCS,
        });
      }
      const targetUrl = body.target_url === undefined || body.target_url === null ? null : String(body.target_url);
      if (targetUrl !== null && !/^https?:\/\//.test(targetUrl)) {
        return answer(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', code: 'custom', field: 'target_url', message: 'target_url must use http(s) scheme' }],
          documentation_url: DOCS,
        });
      }
      const context = typeof body.context === 'string' && body.context ? body.context : 'default';
      const key = repoKey(o, r);
      const count = statuses.filter((s) => s.sha === sha && s.context.toLowerCase() === context.toLowerCase() && statusRepo.get(s.id) === key).length;
      if (count >= MAX_STATUSES) {
        return answer(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', code: 'custom', field: 'context', message: 'This SHA and context has reached the maximum number of statuses.' }],
          documentation_url: DOCS,
        });
      }
      const s: DoubleStatus = { id: nextId++, sha, state, description, target_url: targetUrl, context, created_at: new Date().toISOString() };
      statuses.push(s);
      statusRepo.set(s.id, key);
      return answer(201, statusJson(s, o, r));
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/statuses$/.exec(path)) && method === 'GET') {
      const [, o, r, sha] = m as unknown as [string, string, string, string];
      const key = repoKey(o, r);
      const all = statuses.filter((s) => s.sha === sha && statusRepo.get(s.id) === key).reverse();
      const { items, link } = paginate(all);
      return answer(
        200,
        items.map((s) => statusJson(s, o, r)),
        link,
      );
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/status$/.exec(path)) && method === 'GET') {
      const [, o, r, sha] = m as unknown as [string, string, string, string];
      if (!(await shaOk(o, r, sha))) return answer(422, { message: `No commit found for SHA: ${sha}`, documentation_url: DOCS });
      const all = latest(repoKey(o, r), sha);
      const state = all.some((s) => s.state === 'error' || s.state === 'failure')
        ? 'failure'
        : all.length === 0 || all.some((s) => s.state === 'pending')
          ? 'pending'
          : 'success';
      const { items, link } = paginate(all);
      return answer(
        200,
        {
          state,
          sha,
          total_count: all.length,
          statuses: items.map((s) => statusJson(s, o, r)),
          repository: { full_name: `${o}/${r}` },
          commit_url: `${base}/repos/${o}/${r}/commits/${sha}`,
          url: `${base}/repos/${o}/${r}/commits/${sha}/status`,
        },
        link,
      );
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path))) {
      const [, o, r, n] = m as unknown as [string, string, string, string];
      const key = repoKey(o, r);
      const issue = Number(n);
      if (method === 'GET') {
        const { items, link } = paginate(comments.filter((c) => c.issue === issue && inRepo(c.id, key)));
        return answer(
          200,
          items.map((c) => commentJson(c, o, r)),
          link,
        );
      }
      if (method === 'POST') {
        if (typeof body.body !== 'string') return answer(422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS });
        if (body.body.length > MAX_BODY)
          return answer(422, {
            message: 'Validation Failed',
            errors: [{ resource: 'IssueComment', code: 'unprocessable', field: 'data', message: 'Body is too long (maximum is 65536 characters)' }],
            documentation_url: DOCS,
          });
        const at = new Date().toISOString();
        const c: DoubleComment = { id: nextId++, issue, body: body.body, user: 'github-actions[bot]', created_at: at, updated_at: at };
        comments.push(c);
        commentRepo.set(c.id, key);
        return answer(201, commentJson(c, o, r));
      }
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path))) {
      const [, o, r, id] = m as unknown as [string, string, string, string];
      const c = comments.find((x) => x.id === Number(id) && inRepo(x.id, repoKey(o, r)));
      if (!c) return answer(404, { message: 'Not Found', documentation_url: DOCS });
      if (method === 'PATCH') {
        if (typeof body.body !== 'string') return answer(422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS });
        if (body.body.length > MAX_BODY)
          return answer(422, {
            message: 'Validation Failed',
            errors: [{ resource: 'IssueComment', code: 'unprocessable', field: 'data', message: 'Body is too long (maximum is 65536 characters)' }],
            documentation_url: DOCS,
          });
        c.body = body.body;
        c.updated_at = new Date().toISOString();
        return answer(200, commentJson(c, o, r));
      }
      if (method === 'DELETE') {
        comments = comments.filter((x) => x !== c);
        return answer(204);
      }
      if (method === 'GET') return answer(200, commentJson(c, o, r));
    }
    return answer(404, { message: 'Not Found', documentation_url: DOCS });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    writeToken: [...writeTokens][0]!,
    readToken: [...readTokens][0]!,
    statuses: (sha) => statuses.filter((s) => !sha || s.sha === sha).map((s) => ({ ...s })),
    current(sha) {
      const by = new Map<string, DoubleStatus>();
      for (const s of statuses) if (s.sha === sha) by.set(s.context.toLowerCase(), { ...s });
      return by;
    },
    comments: (issue) => comments.filter((c) => issue === undefined || c.issue === issue).map((c) => ({ ...c })),
    seedStatuses(owner, repo, sha, context, count, state = 'pending') {
      for (let i = 0; i < count; i++) {
        const st: DoubleStatus = { id: nextId++, sha, state, description: `seeded ${i}`, target_url: null, context, created_at: new Date().toISOString() };
        statuses.push(st);
        statusRepo.set(st.id, repoKey(owner, repo));
      }
    },
    addComment(issue, body, user = 'someone') {
      const at = new Date().toISOString();
      const c: DoubleComment = { id: nextId++, issue, body, user, created_at: at, updated_at: at };
      comments.push(c);
      commentRepo.set(c.id, '*');
      return { ...c };
    },
    requests: () => log.map((r) => ({ ...r })),
    inject(kind, count = 1, opts = {}) {
      for (let i = 0; i < count; i++)
        injected.push({ kind, methods: opts.methods ?? null, retryAfter: opts.retryAfterSeconds ?? 1, reset: opts.resetSeconds ?? 1 });
    },
    get maxConcurrentWrites() {
      return maxConcurrentWrites;
    },
    reset() {
      statuses = [];
      comments = [];
      log = [];
      injected = [];
      primaryUse.clear();
      writeTimes = [];
      maxConcurrentWrites = 0;
      statusRepo.clear();
      commentRepo.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
