import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { plainDecimal } from './plain-decimal.js';

/**
 * An integer query parameter from `min` to `max`, written in plain decimal digits: anything
 * else (`1e2`, `+5`, ` 5`, `0x10`, `1.0`, `050`, empty, given twice) is a 400 naming it, with
 * one message saying the whole rule. (class-transformer's `@Type(() => Number)` read "1e2" as 100.)
 */
export function QueryInteger(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => plainDecimal(value) ?? value),
    ValidateBy({
      name: 'queryInteger',
      validator: {
        validate: (value: unknown) => typeof value === 'number' && value >= min && value <= max,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an integer from ${min} to ${max}, in plain decimal digits (no sign, exponent, fraction, spaces or leading zeros)`,
      },
    }),
  );
}
