import { issueSlug } from '../../src/issues/issue.rules.js';
import { slugOf } from '../../src/shared/slug.js';

/* Links readable in every script; test/fidelity/slug.spec.ts compares them with Bytebase's gosimple/slug. */
describe('slugs', () => {
  it('transliterate every script to ASCII, as Bytebase’s do', () => {
    expect(slugOf('索引')).toBe('suo-yin');
    expect(slugOf('Добавить индекс')).toBe('dobavit-indeks');
    expect(slugOf('Straße für Ærøskøbing')).toBe('strasse-fur-aeroskobing');
  });

  it('drop quotes, spell out & and @, and keep - and _ only between words', () => {
    expect(slugOf(' O’Brien’s "fix" — v2 ')).toBe('obriens-fix-v2');
    expect(slugOf('ops & db @ night')).toBe('ops-and-db-at-night');
    expect(slugOf('__café_au_lait 50% off--')).toBe('cafe_au_lait-50-off');
  });

  it('keep the issue id at the end, and are the id alone when nothing in the name is a letter or a digit', () => {
    expect(issueSlug('<b>x</b> *y* @all 索引 & "q"', 1)).toBe('b-x-b-y-atall-suo-yin-and-q-1');
    expect(issueSlug('Add index: users', 42)).toBe('add-index-users-42');
    expect(issueSlug('🚀 🎉', 7)).toBe('7');
  });
});
