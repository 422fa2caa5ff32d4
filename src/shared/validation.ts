import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from './errors.js';
import { ValidationFailed } from './problem.filter.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** class-validator on every body and query: unknown fields are refused, each bad field is named. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new ValidationFailed(fields.length > 0 ? fields : [{ field: 'body', message: 'must be a JSON object' }]);
    },
  });
}
