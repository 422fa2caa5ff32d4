import { ConfigError, loadConfig } from '../../src/config/config.js';

const tracing = (env: NodeJS.ProcessEnv) => loadConfig(env, '/srv/herald').tracing;

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    tracing(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('tracing configuration (the standard OTEL_* variables)', () => {
  it('is off unless an OTLP endpoint is named, or turned off explicitly', () => {
    expect(tracing({})).toBeNull();
    expect(tracing({ OTEL_SERVICE_NAME: 'herald-eu', OTEL_TRACES_SAMPLER: 'always_on' })).toBeNull();
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
  });

  it('reads the endpoint, the protocol, the service, the resource, the sampler and the export delay', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      serviceName: 'herald',
      resourceAttributes: {},
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      exportDelayMs: 5000,
    });
    expect(
      tracing({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/custom/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D,tenant=eu',
        OTEL_SERVICE_NAME: 'herald-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.namespace=ops%20tools',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    ).toEqual({
      endpoint: 'https://otlp.example.com/custom/traces',
      protocol: 'http/json',
      headers: { 'x-api-key': 'abc==', tenant: 'eu' },
      serviceName: 'herald-eu',
      resourceAttributes: { 'deployment.environment': 'prod', 'service.namespace': 'ops tools' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
      exportDelayMs: 200,
    });
    // OTEL_TRACES_EXPORTER=otlp alone: the SDK's default endpoint
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp' })?.endpoint).toBe('http://localhost:4318/v1/traces');
  });

  it('refuses a wrong value naming the variable and the rule, never repeating a header or an endpoint', () => {
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(
      'invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (got "grpc": Herald exports OTLP over HTTP only)',
    );
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toMatch(/^invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/);
    expect(refusal({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url with s3cret' })).not.toContain('s3cret');
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization' })).toBe(
      'invalid configuration: OTEL_EXPORTER_OTLP_HEADERS must be comma-separated key=value pairs',
    );
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%zz-s3cret' })).not.toContain('s3cret');
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'sometimes' })).toMatch(/^invalid configuration: OTEL_TRACES_SAMPLER must be one of always_on, .*parentbased_traceidratio \(got "sometimes"\)$/);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toMatch(/^invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_RESOURCE_ATTRIBUTES: 'team' })).toMatch(/^invalid configuration: OTEL_RESOURCE_ATTRIBUTES must be comma-separated key=value pairs \(got "team"\)$/);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toMatch(/^invalid configuration: OTEL_BSP_SCHEDULE_DELAY must be a whole number/);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'jaeger' })).toBe('invalid configuration: OTEL_TRACES_EXPORTER must be otlp or none (got "jaeger")');
  });
});
