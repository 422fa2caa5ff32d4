import { Injectable, Param, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { invalid } from './errors.js';

/**
 * An id in a path: a whole number a JavaScript number holds exactly (ids are 64-bit
 * integers in both engines). A larger one is refused here with a 400, not passed to
 * the database (PostgreSQL would fail on it).
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    const id = Number(value);
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(id)) {
      const field = metadata.data ?? 'id';
      throw invalid(`${field} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`, [{ field, message: `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}` }]);
    }
    return id;
  }
}

export const IdParam = (name: string) => Param(name, ParseIdPipe);
