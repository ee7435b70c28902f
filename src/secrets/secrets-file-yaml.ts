// The YAML parser for a secrets file, in a module of its own so that it is loaded only when a
// secrets file is given (a static import here gives the bundler's CommonJS interop its named export).
import { parse } from 'yaml';

/** Parse a secrets file's text; throws the parser's error (whose message may quote the file). */
export function parseSecretsYaml(text: string): unknown {
  return parse(text, { maxAliasCount: 10 });
}
