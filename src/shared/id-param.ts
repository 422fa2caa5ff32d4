import { Injectable, Param, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { invalid } from './errors.js';
import { plainDecimal } from './plain-decimal.js';

/**
 * An id in a path: a plain decimal that a JavaScript number holds exactly (ids are 64-bit
 * integers in both engines). Anything else (a larger number, "1e3", "00002") is a 400,
 * never read as another id nor passed to the database (PostgreSQL would fail on it).
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    const id = plainDecimal(value);
    if (id === undefined) {
      const field = metadata.data ?? 'id';
      const rule = `must be a plain decimal number from 0 to ${Number.MAX_SAFE_INTEGER}, without leading zeros`;
      throw invalid(`${field} ${rule}`, [{ field, message: rule }]);
    }
    return id;
  }
}

export const IdParam = (name: string) => Param(name, ParseIdPipe);
