import { ValidationPipe, type ArgumentMetadata, type Type, type ValidationError } from '@nestjs/common';
import type { FieldError } from '../shared/errors.js';
import { ValidationFailed } from './problem.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Where @nestjs/swagger's @ApiProperty keeps its metadata (its DECORATORS constants, not exported by the package). */
const DECORATORS = { API_MODEL_PROPERTIES: 'swagger/apiModelProperties', API_MODEL_PROPERTIES_ARRAY: 'swagger/apiModelPropertiesArray' };

interface PropertyDoc {
  nullable: boolean;
  /** The request class of a nested object (or of an array's items). */
  nested?: Type;
}

const isRequestClass = (type: unknown): type is Type => typeof type === 'function' && Reflect.hasMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, type.prototype);

const documented = new WeakMap<Type, Map<string, PropertyDoc>>();

/** A request class's documented properties (its @ApiProperty metadata, inherited ones included), by name; read once per class. */
function documentedProperties(dto: Type): Map<string, PropertyDoc> {
  let properties = documented.get(dto);
  if (!properties) {
    const names = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, dto.prototype) as string[] | undefined) ?? [];
    properties = new Map(
      names.map((key) => {
        const name = key.replace(/^:/, '');
        const doc = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, dto.prototype, name) ?? {}) as { type?: unknown; nullable?: boolean };
        return [name, { nullable: doc.nullable === true, nested: isRequestClass(doc.type) ? doc.type : undefined }];
      }),
    );
    documented.set(dto, properties);
  }
  return properties;
}

/**
 * The null rule, derived from the request classes: a field may be null only where its
 * @ApiProperty says `nullable: true` (the same words the OpenAPI document shows), at any
 * depth. class-validator's @IsOptional lets null through every other rule, so without this a
 * `{"name": null}` reached the deciders and the log.
 */
export function nullFields(value: unknown, dto: Type, path = ''): FieldError[] {
  if (typeof value !== 'object' || value === null) return [];
  const properties = documentedProperties(dto);
  const errors: FieldError[] = [];
  for (const [name, child] of Object.entries(value)) {
    const doc = properties.get(name);
    if (!doc) continue; // an unknown field: refused by the whitelist rule
    const field = path ? `${path}.${name}` : name;
    if (child === null) {
      if (!doc.nullable) errors.push({ field, message: `${name} must not be null` });
    } else if (doc.nested) {
      const nested = doc.nested;
      if (Array.isArray(child)) child.forEach((item, i) => errors.push(...(item === null ? [{ field: `${field}.${i}`, message: `${name} must not hold null` }] : nullFields(item, nested, `${field}.${i}`))));
      else errors.push(...nullFields(child, nested, field));
    }
  }
  return errors;
}

/**
 * class-validator on every body and query: unknown fields are refused, nulls only where
 * documented, each bad field is named. Path parameters are left as they came (strings):
 * their own pipes (ParseIdPipe) judge them, and the default transformation would have read
 * "1e3" as 1000 before them.
 */
class HeraldValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param') return value;
    if (metadata.type === 'body' && isRequestClass(metadata.metatype)) {
      if (value === null || Array.isArray(value) || (value !== undefined && typeof value !== 'object')) {
        throw new ValidationFailed([{ field: 'body', message: 'must be a JSON object' }]);
      }
      const nulls = nullFields(value, metadata.metatype);
      if (nulls.length > 0) throw new ValidationFailed(nulls);
    }
    return super.transform(value, metadata);
  }
}

export function validationPipe(): ValidationPipe {
  return new HeraldValidationPipe({
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
