import { describe, expect, it } from 'vitest';
import { GitError } from '../src/core/errors.js';
import { redactUrlCredentials } from '../src/git/redact.js';
import { openRepo } from '../src/git/repo.js';
import { createTempRepo } from './helpers/git-repo.js';

describe('redactUrlCredentials', () => {
  it('strips user:password@ from every URL and keeps the rest', () => {
    expect(redactUrlCredentials("fatal: unable to access 'https://user:s3cr3t@github.com/o/r.git/': 403")).toBe(
      "fatal: unable to access 'https://github.com/o/r.git/': 403",
    );
    expect(redactUrlCredentials('https://x-access-token:ghs_abc@github.com/a and http://tok@h:8080/p')).toBe('https://github.com/a and http://h:8080/p');
    expect(redactUrlCredentials('https://us%40er:p@ss@host/x')).toBe('https://host/x');
    expect(redactUrlCredentials('ssh://git@host/x')).toBe('ssh://host/x');
  });

  it('leaves text without credentials alone', () => {
    for (const s of ['git@github.com:o/r.git', 'see https://example.com/a@b', 'mail me: a@b.c', 'https://host/x?u=a@b']) {
      expect(redactUrlCredentials(s)).toBe(s);
    }
  });

  it('hides Authorization header values', () => {
    expect(redactUrlCredentials('-c http.extraheader=AUTHORIZATION: basic eC1hY2Nlc3M6dG9r')).toBe('-c http.extraheader=AUTHORIZATION: basic ***');
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
      expect(g.command).toContain('http://127.0.0.1:1/org/repo.git');
      expect(g.message).toContain('127.0.0.1');
      expect(`${g.message} ${g.command} ${String(g.stack)}`).not.toMatch(/TOPSECRET|robot/);
      expect(g.exitCode).toBe(128);
    } finally {
      await t.cleanup();
    }
  });
});
