import { EVENT_SCHEMAS, registerUpcasters } from '../../src/domain.js';
import { custom, int, object, oneOf, str, type EventSchemas } from '../../src/event-store/event-schema.js';
import { logFingerprint } from '../../src/event-store/log-fingerprint.js';
import { READ_MODELS_VERSION } from '../../src/event-store/projection-rebuilder.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';

const upcasters = () => registerUpcasters(new UpcasterRegistry());
const today = logFingerprint(EVENT_SCHEMAS, upcasters(), READ_MODELS_VERSION);
const withSchema = (type: string, schema: EventSchemas[string]) => logFingerprint({ ...EVENT_SCHEMAS, [type]: schema }, upcasters(), READ_MODELS_VERSION);

describe('the fingerprint the start-up check remembers its position under', () => {
  it('is the same for the same schemas and upcasters (another start of the same release)', () => {
    expect(logFingerprint(EVENT_SCHEMAS, upcasters(), READ_MODELS_VERSION)).toBe(today);
  });

  it('changes with a new schema version, a new upcaster or a raised READ_MODELS_VERSION', () => {
    const next = EVENT_SCHEMAS['issue.comment-created'];
    expect(withSchema('issue.comment-created', { ...next, schemaVersion: 2 })).not.toBe(today);
    expect(logFingerprint(EVENT_SCHEMAS, upcasters().register('issue.comment-created', 1, (data) => data), READ_MODELS_VERSION)).not.toBe(today);
    expect(logFingerprint(EVENT_SCHEMAS, upcasters(), READ_MODELS_VERSION + 1)).not.toBe(today);
  });

  it('changes with what a schema accepts: a limit, a list of values, a key, a hand-written check', () => {
    const schema = (data: ReturnType<typeof object>) => ({ schemaVersion: 1, data });
    const base = withSchema('x.happened', schema(object({ id: int, name: str({ min: 1 }), kind: oneOf(['A', 'B']) })));
    expect(withSchema('x.happened', schema(object({ id: int, name: str({ min: 1 }), kind: oneOf(['A', 'B']) })))).toBe(base);
    expect(withSchema('x.happened', schema(object({ id: int, name: str({ min: 2 }), kind: oneOf(['A', 'B']) })))).not.toBe(base);
    expect(withSchema('x.happened', schema(object({ id: int, name: str({ min: 1 }), kind: oneOf(['A', 'B', 'C']) })))).not.toBe(base);
    expect(withSchema('x.happened', schema(object({ id: int, name: str({ min: 1 }) }, { kind: oneOf(['A', 'B']) })))).not.toBe(base);
    const even = (limit: number) => custom(`even up to ${limit}`, (value, path) => (value === 0 ? undefined : `${path} must be even`));
    expect(withSchema('x.happened', schema(object({ n: even(10) })))).not.toBe(withSchema('x.happened', schema(object({ n: even(20) }))));
  });
});
