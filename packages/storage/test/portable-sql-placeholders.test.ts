// The placeholder scanner decides how many values a statement takes and refuses a second
// statement: `?` and `;` inside literals, quoted identifiers and comments must not count.
import fc from 'fast-check';
import { isStorageError } from '@milagro/storage';
import { placeholderOffsets } from '../src/portable-sql';

/** Text that may hold ? and ; but none of the closing delimiter. */
const inner = (excluded: string) => fc.string({ unit: fc.constantFrom('a', ' ', '?', ';', '-', '*', '/', "'", '"', '\n', excluded) }).map((s) => s.replaceAll(excluded, ''));

/** A fragment of SQL and how many real placeholders it holds. */
const fragment = fc.oneof(
  fc.constant({ sql: ' ? ', count: 1 }),
  fc.constantFrom('SELECT', ' x ', ',', '(', ')', '=', ' 1 ', '- 1').map((sql) => ({ sql, count: 0 })),
  inner("'").map((s) => ({ sql: `'${s.replaceAll("'", "''")}'`, count: 0 })),
  inner('"').map((s) => ({ sql: `"${s}"`, count: 0 })),
  inner(']').map((s) => ({ sql: `[${s}]`, count: 0 })),
  inner('\n').map((s) => ({ sql: `--${s}\n`, count: 0 })),
  inner('*').map((s) => ({ sql: `/*${s}*/`, count: 0 })),
);

test('counts exactly the ? outside literals, identifiers and comments; a trailing ; and comments are allowed', () => {
  fc.assert(
    fc.property(fc.array(fragment, { maxLength: 30 }), fc.boolean(), (fragments, terminated) => {
      const sql = fragments.map((f) => f.sql).join(' ') + (terminated ? ' ; -- done\n /* end */ ' : '');
      expect(placeholderOffsets(sql)).toHaveLength(fragments.reduce((sum, f) => sum + f.count, 0));
    }),
  );
});

test('refuses a second statement, numbered placeholders and unterminated quotes or comments', () => {
  for (const sql of ['SELECT 1; SELECT 2', "SELECT 1; 'x'", 'SELECT ?1', "SELECT 'open", 'SELECT /* open', 'SELECT "open']) {
    let error: unknown;
    try {
      placeholderOffsets(sql);
    } catch (caught) {
      error = caught;
    }
    expect(isStorageError(error, 'INVALID_ARGUMENT')).toBe(true);
  }
});
