import { transliterate } from 'transliteration';

/*
 * URL slugs readable in every script, made the way Bytebase makes them (gosimple/slug with
 * gosimple/unidecode): quotes dropped, dashes and `&`/`@` spelled out, every other letter
 * transliterated to ASCII (索引 → suo-yin, Добавить → dobavit), lower-cased, anything else one `-`.
 * The transliteration tables are the `transliteration` package's, not unidecode's: a few scripts
 * come out spelled differently (docs/fidelity.md, `issue-slug`).
 */

/** gosimple/slug's substitutions before transliterating (its defaults, then English's). */
const SUBSTITUTIONS: Readonly<Record<string, string>> = {
  '"': '',
  "'": '',
  '\u2019': '',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '&': 'and',
  '@': 'at',
};
const SUBSTITUTED = new RegExp(`[${Object.keys(SUBSTITUTIONS).join('')}]`, 'g');

/** The slug of a name: `[a-z0-9_-]` only, no `-` or `_` at either end; empty when nothing in it is a letter or a digit. */
export function slugOf(name: string): string {
  const substituted = name.trim().replace(SUBSTITUTED, (c) => SUBSTITUTIONS[c]);
  return transliterate(substituted, { unknown: '' })
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}
