import { readFileSync } from 'node:fs';
import { slugOf } from '../../src/shared/slug.js';
import { SLUG_NAMES } from './bytebase-1.12/cases.js';

/*
 * Issue links against Bytebase's: slugs.json holds what gosimple/slug v1.13.1 (with unidecode
 * v1.0.1), run by the harness, makes of each name. Herald's transliteration tables are another
 * package's: where they spell a script differently the slug differs, and docs/fidelity.md
 * (`issue-slug`) lists each such name.
 */
const gosimple: { name: string; slug: string }[] = JSON.parse(readFileSync('test/fidelity/bytebase-1.12/slugs.json', 'utf8'));

/** Herald's slug where it is not gosimple's: the residual differences of docs/fidelity.md. */
const RESIDUAL: Record<string, string> = {
  // katakana ッ: unidecode `tsu`, transliteration `tu`
  'インデックスを追加': 'indetukusuwozhui-jia',
  // Greek η: unidecode `e`, transliteration `i`
  'Ελληνικά ονόματα': 'ellinika-onomata',
};

describe('issue slugs, against gosimple/slug', () => {
  it('are made from the names the harness slugged', () => {
    expect(gosimple.map((g) => g.name)).toEqual(SLUG_NAMES);
  });

  it.each(gosimple)('$name → $slug', ({ name, slug }) => {
    expect(slugOf(name)).toBe(RESIDUAL[name] ?? slug);
  });

  it('names the docs give as residual differences', () => {
    const doc = readFileSync('docs/fidelity.md', 'utf8');
    for (const [name, slug] of Object.entries(RESIDUAL)) expect(doc).toContain(`\`${name}\` → \`${slug}\``);
  });
});
