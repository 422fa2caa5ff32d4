import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import type { Page } from '../contract/page.js';
import { invalid } from './errors.js';
import { plainDecimal } from './plain-decimal.js';
import { QueryInteger } from './query-integer.js';

export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @QueryInteger(1, 200) limit?: number;
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The `nextCursor` of the previous page.' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'cursor must be a value returned as nextCursor' }) cursor?: string;
}

/** A page of a list (the API's shape, shared with the console). */
export type { Page };

/**
 * Cursors are opaque: the key of the last item seen (its id, or several parts such as
 * `createdAt:id` for a list in time order), bound to the list they came from.
 */
export function encodeCursor(scope: string, ...lastKey: (string | number)[]): string {
  return Buffer.from([scope, ...lastKey].join(':')).toString('base64url');
}

/** The key parts of a cursor of this list; a cursor of another list, or a key `valid` refuses, is a 400 (numeric parts: see plainDecimal). */
export function decodeCursorKey(scope: string, cursor: string, valid: (key: string[]) => boolean): string[] {
  const [cursorScope, ...key] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (cursorScope !== scope || !valid(key)) {
    throw invalid('the cursor does not belong to this list', [{ field: 'cursor', message: 'must be a nextCursor returned by this list' }]);
  }
  return key;
}

export function decodeCursor(scope: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const [id] = decodeCursorKey(scope, cursor, (key) => key.length === 1 && plainDecimal(key[0]) !== undefined);
  return plainDecimal(id)!;
}

export function pageOf<T extends { id: number }>(scope: string, rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(scope, items[items.length - 1].id) : null };
}
