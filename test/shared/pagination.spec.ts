import { DomainError } from '../../src/shared/errors.js';
import { decodeCursor, decodeCursorKey, encodeCursor, pageOf } from '../../src/shared/pagination.js';

const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('cursors', () => {
  it('are the list and the last key, base64url-encoded', () => {
    expect(encodeCursor('audit-3', 17)).toBe(b64('audit-3:17'));
    // a webhook's deliveries, newest first: (created_at, id) after the webhook's id, as before the shared codec
    expect(encodeCursor('7', 1772359200000, '019a-delivery')).toBe(b64('7:1772359200000:019a-delivery'));
  });

  it('read back to the key they were made from', () => {
    expect(decodeCursor('audit-3', encodeCursor('audit-3', 17))).toBe(17);
    expect(decodeCursorKey('7', encodeCursor('7', 1772359200000, 'd1'), () => true)).toEqual(['1772359200000', 'd1']);
    expect(decodeCursor('audit-3', undefined)).toBeUndefined();
  });

  it.each([
    ['another list', () => decodeCursor('audit-3', encodeCursor('audit-4', 17))],
    ['a key that is no id', () => decodeCursor('audit-3', b64('audit-3:x'))],
    ['a negative id', () => decodeCursor('audit-3', b64('audit-3:-1'))],
    ['a key the list refuses', () => decodeCursorKey('7', b64('7:abc'), ([createdAt]) => Number.isInteger(Number(createdAt)))],
  ])('refuse %s with a 400 naming the cursor', (_, decode) => {
    let caught: unknown;
    try {
      decode();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect(caught).toMatchObject({ kind: 'invalid', message: 'the cursor does not belong to this list' });
    expect((caught as DomainError).errors).toEqual([{ field: 'cursor', message: 'must be a nextCursor returned by this list' }]);
  });

  it('page: a next cursor only when there is more', () => {
    const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
    expect(pageOf('l', rows, 2)).toEqual({ items: [{ id: 1 }, { id: 2 }], nextCursor: encodeCursor('l', 2) });
    expect(pageOf('l', rows, 3)).toEqual({ items: rows, nextCursor: null });
  });
});
