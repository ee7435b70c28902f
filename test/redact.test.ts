// The one redactor (core/redact.ts), git's errors through it, and the environment git children get.
import { describe, expect, it } from 'vitest';
import { GitError } from '../src/core/errors.js';
import { makeRedactor, REDACTED, redactCredentials, stripUrlCredentials } from '../src/core/redact.js';
import { gitEnv } from '../src/git/run.js';
import { openRepo } from '../src/git/repo.js';
import { createTempRepo } from './helpers/git-repo.js';

describe('redactCredentials', () => {
  it('hides user:password@ in every URL behind the one marker and keeps the rest', () => {
    expect(redactCredentials("fatal: unable to access 'https://user:s3cr3t@github.com/o/r.git/': 403")).toBe(
      "fatal: unable to access 'https://***@github.com/o/r.git/': 403",
    );
    expect(redactCredentials('https://x-access-token:ghs_abc@github.com/a and http://tok@h:8080/p')).toBe('https://***@github.com/a and http://***@h:8080/p');
    expect(redactCredentials('https://us%40er:p@ss@host/x')).toBe('https://***@host/x');
    expect(redactCredentials('ssh://git@host/x')).toBe('ssh://***@host/x');
  });

  it('leaves text without credentials alone', () => {
    for (const s of ['git@github.com:o/r.git', 'see https://example.com/a@b', 'mail me: a@b.c', 'https://host/x?u=a@b']) {
      expect(redactCredentials(s)).toBe(s);
    }
  });

  it('hides Authorization header values', () => {
    expect(redactCredentials('-c http.extraheader=AUTHORIZATION: basic eC1hY2Nlc3M6dG9r')).toBe('-c http.extraheader=AUTHORIZATION: basic ***');
  });

  it('stripUrlCredentials (for identities, not output) removes them without a marker', () => {
    expect(stripUrlCredentials('https://u:p@host/x')).toBe('https://host/x');
  });
});

describe('makeRedactor', () => {
  it('hides each value in its literal, URL-encoded and JSON-escaped forms, and credentials, with one marker', () => {
    const r = makeRedactor(['Pa$s "word"/1', 'alto_sk_token', undefined, 'ab']);
    const text = [
      'literal Pa$s "word"/1',
      `encoded ${encodeURIComponent('Pa$s "word"/1')}`,
      `json ${JSON.stringify('Pa$s "word"/1')}`,
      'Bearer alto_sk_token',
      'https://robot:pw@example.com/x',
      'ab stays: too short to hide',
    ].join('\n');
    expect(r(text)).toBe(['literal ***', 'encoded ***', 'json "***"', 'Bearer ***', 'https://***@example.com/x', 'ab stays: too short to hide'].join('\n'));
    expect(REDACTED).toBe('***');
  });
});

describe('gitEnv: what a git child process sees', () => {
  it('keeps what git, credential helpers, SSH and proxies need and drops every token and secret', () => {
    const env = gitEnv(
      {},
      {
        PATH: '/usr/bin',
        HOME: '/home/u',
        SSH_AUTH_SOCK: '/tmp/agent.sock',
        HTTPS_PROXY: 'http://proxy:3128',
        no_proxy: 'localhost',
        LC_CTYPE: 'en_US.UTF-8',
        GIT_SSH_COMMAND: 'ssh -i key',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraheader',
        GIT_CONFIG_VALUE_0: 'AUTHORIZATION: basic x',
        GIT_DIR: '/elsewhere/.git',
        SDX_API_TOKEN: 'alto_sk_x',
        GITHUB_TOKEN: 'ghs_x',
        GH_TOKEN: 'ghp_x',
        RGO_SECRET_WIFI: 'wifi-pass',
        RGO_SECRETS_KEY: 'key',
        INPUT_SDX_API_TOKEN: 'alto_sk_y',
        ACTIONS_RUNTIME_TOKEN: 'rt',
        AWS_SECRET_ACCESS_KEY: 'aws',
      },
    );
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/home/u',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      GIT_SSH_COMMAND: 'ssh -i key',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
    });
    for (const k of [
      'GIT_DIR',
      'SDX_API_TOKEN',
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'RGO_SECRET_WIFI',
      'RGO_SECRETS_KEY',
      'INPUT_SDX_API_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
    ]) {
      expect(env, k).not.toHaveProperty(k);
    }
  });

  it('a real git child (a transport command) sees no token or secret of the process', async () => {
    const t = await createTempRepo({ files: { a: 'a' } });
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { SDX_API_TOKEN: 'alto_sk_childtest', RGO_SECRET_X: 'child-secret', GITHUB_TOKEN: 'ghs_childtest' });
      const repo = await openRepo(t.dir);
      // The ext:: transport runs a command for the remote: it counts the variables it can see.
      const count = "echo% SEEN=$(env|grep% -cE% 'alto_sk_childtest|child-secret|ghs_childtest')% HOME=$HOME% 1>&2;exit% 1";
      const err = await repo.run(['-c', 'protocol.ext.allow=always', 'fetch', `ext::sh -c ${count}`, 'main']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitError);
      const seen = (err as GitError).message;
      expect(seen).toContain(`SEEN=0 HOME=${process.env.HOME}`);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await t.cleanup();
    }
  });
});

describe('GitError from a failing remote command', () => {
  it('never carries the credentials of the URL, in message or command', async () => {
    const t = await createTempRepo({ files: { a: 'a' } });
    try {
      const repo = await openRepo(t.dir);
      const url = 'http://robot:TOPSECRET@127.0.0.1:1/org/repo.git';
      const err = await repo.run(['fetch', url, 'main']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitError);
      const g = err as GitError;
      expect(g.command).toContain('http://***@127.0.0.1:1/org/repo.git');
      expect(g.message).toContain('127.0.0.1');
      expect(`${g.message} ${g.command} ${String(g.stack)}`).not.toMatch(/TOPSECRET|robot/);
      expect(g.exitCode).toBe(128);
    } finally {
      await t.cleanup();
    }
  });
});
