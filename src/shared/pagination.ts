import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { invalid } from './errors.js';

export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The `nextCursor` of the previous page.' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'cursor must be a value returned as nextCursor' }) cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors are opaque: the last id seen, bound to the list they came from. */
export function encodeCursor(scope: string, lastId: number): string {
  return Buffer.from(`${scope}:${lastId}`).toString('base64url');
}

export function decodeCursor(scope: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const [cursorScope, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  const lastId = Number(id);
  if (cursorScope !== scope || !Number.isInteger(lastId) || lastId < 0) {
    throw invalid('the cursor does not belong to this list', [{ field: 'cursor', message: 'must be a nextCursor returned by this list' }]);
  }
  return lastId;
}

export function pageOf<T extends { id: number }>(scope: string, rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(scope, items[items.length - 1].id) : null };
}
